# syntax=docker/dockerfile:1
# The images of pgbackup-operator. The controller, the backup runner and the CLI share one
# entrypoint (`pgbackup`), e.g. `docker run IMAGE plan -f policy.yaml ...`.
#
#   docker build -t pgbackup-operator:TAG .                          # runtime (the default)
#   docker build --target drill -t pgbackup-operator:TAG-drill .     # + the servers, for drills
#
# `runtime` carries the PostgreSQL client programs (pg_basebackup, pg_dump, pg_dumpall,
# pg_verifybackup, pg_amcheck, ...) of every major version the runner supports, from the
# PostgreSQL project's Debian repository, under /usr/lib/postgresql/<major>/bin where the
# runner looks for them (src/postgres/locate-tool.ts). `drill` adds the server of each major
# (postgres, with the amcheck extension, ≈ 450 MB) and every locale (≈ 230 MB) for the
# restore drill (`pgbackup verify`), which starts each backup's own major on a restored
# copy; the controller runs drills in the runner image's tag + "-drill" (--verify-image),
# so backups never pull the servers.
# Both run as user 65532 and write nothing outside /tmp (and the drill's work volume), so
# they work with a read-only root filesystem (the chart and the runner's pods mount an
# emptyDir at /tmp).
#
# Build arguments, whose defaults make the published images:
#   NODE_IMAGE   the Node 24 image on Debian bookworm every stage starts from;
#   PG_MAJORS    the PostgreSQL majors the image carries;
#   PG_APT_REPO  the PostgreSQL project's Debian repository they come from, or `none` for
#                Debian's own packages (bookworm has one major, 15).
# A machine with no container registry builds from a base it made itself (Debian's packages
# and Node 24: test/harness/image/, `npm run image:build`):
#   --build-arg NODE_IMAGE=localhost/pgbackup-node-base:... --build-arg PG_MAJORS=15
#   --build-arg PG_APT_REPO=none

ARG NODE_IMAGE=node:24-bookworm-slim

# --- 1. Build: compile the TypeScript, bundle it into one file (dist/bin/pgbackup.mjs, see
# scripts/bundle.ts), then keep only the production dependencies: the bundle still imports
# @kubernetes/client-node (lazily, for exec and auth-provider kubeconfigs) from node_modules. ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# A build whose machine reaches the npm registry through a TLS-inspecting proxy passes the
# proxy's CA as the optional secret `ca` (`--secret id=ca,src=FILE`); a secret stays out of
# every layer, and without one npm trusts Node's own CAs as usual.
RUN --mount=type=secret,id=ca,target=/run/secrets/ca.crt \
    if [ -f /run/secrets/ca.crt ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca.crt; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/bundle.ts
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- 2. Base: Node 24, the PostgreSQL clients, compressors, and the built operator. ---
FROM ${NODE_IMAGE} AS base
# The majors the runner supports; the image carries each one's client programs.
ARG PG_MAJORS="13 14 15 16 17"
ARG PG_APT_REPO=https://apt.postgresql.org/pub/repos/apt
# postgresql-common (from Debian) ships the PostgreSQL project's repository signing key;
# apt trusts that key for that repository only (signed-by). With PG_APT_REPO=none the
# majors come from Debian's own repository, and the build fails below unless it has each.
# pg_waldump (a point-in-time restore reads the archived WAL's commit times with it) comes
# only in the server package: that one program is taken from it, without installing the
# server (the drill target installs the server over it).
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates postgresql-common; \
    . /etc/os-release; \
    if [ "${PG_APT_REPO}" != none ]; then \
      echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] ${PG_APT_REPO} ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list; \
      apt-get update; \
    fi; \
    packages=""; \
    for major in ${PG_MAJORS}; do packages="${packages} postgresql-client-${major}"; done; \
    apt-get install -y --no-install-recommends ${packages} zstd lz4 tini; \
    for major in ${PG_MAJORS}; do \
      test -x "/usr/lib/postgresql/${major}/bin/pg_basebackup"; \
      test -x "/usr/lib/postgresql/${major}/bin/pg_dump"; \
      test -x "/usr/lib/postgresql/${major}/bin/pg_verifybackup"; \
      if [ "${major}" -ge 14 ]; then test -x "/usr/lib/postgresql/${major}/bin/pg_amcheck"; fi; \
    done; \
    mkdir /tmp/server-packages; cd /tmp/server-packages; \
    for major in ${PG_MAJORS}; do \
      apt-get download "postgresql-${major}"; \
      dpkg-deb --fsys-tarfile postgresql-${major}_*.deb \
        | tar -x -C / "./usr/lib/postgresql/${major}/bin/pg_waldump"; \
      "/usr/lib/postgresql/${major}/bin/pg_waldump" --version; \
    done; \
    cd /; rm -rf /tmp/server-packages; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*; \
    mkdir -p /var/lib/pgbackup/local; \
    chown 65532:65532 /var/lib/pgbackup/local

WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# Nothing may write under / at run time: HOME (libpq's ~/.pgpass lookups, Node's REPL
# history) and every temporary file go to /tmp.
# On Node 24 the AWS SDK has no warning about the Node version to give; it stays switched
# off so that a build on an older NODE_IMAGE never prints several lines at every run.
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    NODE_OPTIONS="--enable-source-maps" \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

USER 65532:65532
# tini forwards SIGTERM (the controller's leader releases its Lease; a runner aborts its
# uploads) and reaps the pg_* child processes. The entrypoint is the one-file bundle: a
# runner starts about 0.3 s sooner than from the compiled modules under dist/cli.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/bin/pgbackup.mjs"]
CMD ["help"]

# --- 3. Drill: the base and the server of every major, for `pgbackup verify`. Installing a
# server package would create a "main" cluster of that major in /var/lib/postgresql:
# createcluster.conf says not to, since the drill starts servers only on restored copies in
# its work volume. locales-all (≈ 230 MB): a restored database can only be connected to
# when its locale exists, and many are en_US.UTF-8 (the official postgres image's, Bitnami's,
# Spilo's default), not the C, C.UTF-8 and POSIX a slim image has. initdb (the logical
# drill's empty server) refuses a user id without a passwd entry: 65532 gets one. ---
FROM base AS drill
ARG PG_MAJORS="13 14 15 16 17"
USER root
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    sed -ri 's/^#?\s*create_main_cluster\s*=.*$/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf; \
    grep -qx 'create_main_cluster = false' /etc/postgresql-common/createcluster.conf; \
    apt-get update; \
    packages=""; \
    for major in ${PG_MAJORS}; do packages="${packages} postgresql-${major}"; done; \
    apt-get install -y --no-install-recommends ${packages} locales-all; \
    locale -a | grep -qx 'en_US.utf8'; \
    for major in ${PG_MAJORS}; do \
      test -x "/usr/lib/postgresql/${major}/bin/postgres"; \
      test -f "/usr/share/postgresql/${major}/extension/amcheck.control"; \
      test ! -e "/var/lib/postgresql/${major}/main"; \
    done; \
    grep -q '^[^:]*:[^:]*:65532:' /etc/passwd \
      || echo 'pgbackup:x:65532:65532:pgbackup drill:/tmp:/usr/sbin/nologin' >> /etc/passwd; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*
USER 65532:65532

# --- 4. Runtime (the default target): the base, without the servers. ---
FROM base AS runtime
