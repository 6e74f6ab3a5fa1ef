# syntax=docker/dockerfile:1
# The one image of pgbackup-operator: the controller, the backup runner and the CLI share
# its entrypoint (`pgbackup`), e.g. `docker run IMAGE plan -f policy.yaml ...`.
#
# It carries the PostgreSQL client programs (pg_basebackup, pg_dump, pg_dumpall,
# pg_verifybackup, pg_amcheck, ...) and the server (postgres, with the amcheck extension) of
# every major version the runner supports, from the PostgreSQL project's Debian repository,
# under /usr/lib/postgresql/<major>/bin where the runner looks for them
# (src/postgres/locate-tool.ts). The server is there for the restore drill (`pgbackup
# verify`), which starts each backup's own major on a restored copy; no cluster is created.
# It runs as user 65532 and writes nothing outside /tmp (and the drill's work volume), so it
# works with a read-only root filesystem (the chart and the runner's pods mount an emptyDir
# at /tmp).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- 1. Build: compile the TypeScript, bundle it into one file (dist/bin/pgbackup.mjs, see
# scripts/bundle.ts), then keep only the production dependencies: the bundle still imports
# @kubernetes/client-node (lazily, for exec and auth-provider kubeconfigs) from node_modules. ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/bundle.ts
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- 2. Runtime: Node 20, the PostgreSQL clients and servers, compressors, and the built
# operator. ---
FROM ${NODE_IMAGE} AS runtime
# The majors the runner supports; the image carries each one's client programs and server.
ARG PG_MAJORS="13 14 15 16 17"
# postgresql-common (from Debian) ships the PostgreSQL project's repository signing key;
# apt trusts that key for that repository only (signed-by). Installing a server package
# would create a "main" cluster of that major in /var/lib/postgresql: createcluster.conf
# says not to, since the drill starts servers only on restored copies in its work volume.
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates postgresql-common; \
    sed -ri 's/^#?\s*create_main_cluster\s*=.*$/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf; \
    grep -qx 'create_main_cluster = false' /etc/postgresql-common/createcluster.conf; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    packages=""; \
    for major in ${PG_MAJORS}; do \
      packages="${packages} postgresql-client-${major} postgresql-${major}"; \
    done; \
    apt-get install -y --no-install-recommends ${packages} zstd lz4 tini; \
    for major in ${PG_MAJORS}; do \
      test -x "/usr/lib/postgresql/${major}/bin/pg_basebackup"; \
      test -x "/usr/lib/postgresql/${major}/bin/pg_dump"; \
      test -x "/usr/lib/postgresql/${major}/bin/pg_verifybackup"; \
      test -x "/usr/lib/postgresql/${major}/bin/postgres"; \
      test -f "/usr/share/postgresql/${major}/extension/amcheck.control"; \
      if [ "${major}" -ge 14 ]; then test -x "/usr/lib/postgresql/${major}/bin/pg_amcheck"; fi; \
      test ! -e "/var/lib/postgresql/${major}/main"; \
    done; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*; \
    mkdir -p /var/lib/pgbackup/local; \
    chown 65532:65532 /var/lib/pgbackup/local

WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# Nothing may write under / at run time: HOME (libpq's ~/.pgpass lookups, Node's REPL
# history) and every temporary file go to /tmp.
# Node 20 is the project's chosen runtime until it moves to 22: the AWS SDK's warning that
# it will require Node 22 (several lines at every run) is not for the image's users.
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
