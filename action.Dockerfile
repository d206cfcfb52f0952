# The GitHub Action's container (action.yml): the headless Stream Doctor running `check`.
# GitHub builds this file with the repository root as the context, passes no build arguments
# and no target, and runs the container as root with the workspace mounted at
# /github/workspace as its working directory; it asks actions not to set USER (a non-root user
# may not be able to write the workspace or the step's summary and output files). The deployed
# listener's image, with its unprivileged user, is the root Dockerfile.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY assets assets
COPY benches benches
COPY examples examples
# The `deploy` profile: release, fat LTO, one codegen unit, symbols stripped (see Cargo.toml).
RUN cargo build --locked --profile deploy --no-default-features --bin stream-doctor

FROM debian:bookworm-slim
# No packages added: the checks trust the public roots built into the binary (as a provider
# does), and `--ca-file` adds private ones.
COPY --from=build /src/target/deploy/stream-doctor /usr/local/bin/stream-doctor
ENTRYPOINT ["stream-doctor"]
