# The headless Stream Doctor (no window, no GPU libraries) as the listener a platform runs next
# to your app (Railway, Render, Fly: see deploy/). The GitHub Action has its own image,
# action.Dockerfile, because GitHub runs actions as root and this one is not.

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
# No packages added: the checks trust the public roots built into the binary (as a provider
# does), and `--ca-file` adds private ones.
COPY --from=build /src/target/deploy/stream-doctor /usr/local/bin/stream-doctor
# An unprivileged user: the listener needs no privilege, and a platform runs it as it is.
USER 1001:1001
# Platforms set PORT; listen binds 0.0.0.0:$PORT when it is set, and needs STREAM_DOCTOR_TOKEN.
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["stream-doctor"]
CMD ["listen"]
