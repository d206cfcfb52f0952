# The headless Stream Doctor (no window, no GPU libraries): the listener a platform runs next to
# your app (Railway, Render, Fly: see deploy/), and the GitHub Action's `check` (action.yml).
# It lives at the repository root because GitHub builds an action's Dockerfile with the action's
# own folder as the context.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY assets assets
COPY benches benches
COPY examples examples
# The `deploy` profile: release, fat LTO, one codegen unit, symbols stripped (see Cargo.toml).
RUN cargo build --locked --profile deploy --no-default-features --bin stream-doctor

FROM debian:bookworm-slim AS runtime
# ca-certificates: the `check` trusts what the provider trusts (webpki roots are built in;
# the system store is for private CAs a team adds).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1001 --user-group --no-create-home --shell /usr/sbin/nologin stream-doctor
COPY --from=build /src/target/deploy/stream-doctor /usr/local/bin/stream-doctor
# uid 1001 is also the runner user on GitHub-hosted runners, so the action can write the
# workspace and the step's summary and output files without running as root.
USER 1001
# Platforms set PORT; listen binds 0.0.0.0:$PORT when it is set, and needs STREAM_DOCTOR_TOKEN.
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["stream-doctor"]
CMD ["listen"]
