# Every image of the repository; pick one with --target (docker-compose.yml builds them all):
#   gateway, writer, analytics, migrate   the services, on Node
#   postgres                              PostgreSQL from the same @embedded-postgres build the tests use
#   kafka                                 Apache Kafka from the same Maven jars the tests use
#   prometheus                            Debian's prometheus package, with infra/prometheus's config
# Versions are not repeated here: PostgreSQL's comes from packages/localstack/package.json (checked
# against pnpm-lock.yaml), Kafka's from infra/kafka/pom.xml, pnpm's from package.json.
#
# Build options (all optional):
#   --build-arg DEBIAN_IMAGE=…   Debian 12 base (default debian:bookworm-slim from Docker Hub)
#   --build-arg NODE_IMAGE=…     Node base with a `node` user (default the official node image below)
#   --secret id=extra_ca,src=…   PEM bundle of extra CA certificates, trusted by the steps that
#                                fetch from npm or Maven (a TLS-intercepting proxy); never kept in
#                                an image that is shipped
# No `# syntax=` line on purpose: the builder's built-in Dockerfile frontend (BuildKit, Docker 20.10+)
# is enough, and a syntax line would make every build pull a frontend image from a registry.

ARG DEBIAN_IMAGE=debian:bookworm-slim
ARG NODE_VERSION=24.22.3
ARG NODE_IMAGE=node:${NODE_VERSION}-bookworm-slim

# ---------------------------------------------------------------------------------------------------
# Node services
FROM ${NODE_IMAGE} AS base
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true
WORKDIR /app
# pnpm at the version package.json's packageManager names, from the npm registry (integrity checked).
COPY package.json infra/images/npm-fetch.mjs /tmp/pnpm/
RUN --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi; \
    version=$(node -p "require('/tmp/pnpm/package.json').packageManager.split('@')[1]") && \
    node /tmp/pnpm/npm-fetch.mjs pnpm "$version" /opt/pnpm && \
    mkdir -p /pnpm && printf '#!/bin/sh\nexec node /opt/pnpm/bin/pnpm.cjs "$@"\n' > /pnpm/pnpm && \
    chmod 755 /pnpm/pnpm && rm -rf /tmp/pnpm && pnpm --version

# Dependencies first: this layer is rebuilt only when the lockfile changes.
FROM base AS deps
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi; \
    pnpm fetch --store-dir=/pnpm/store

FROM deps AS build
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --store-dir=/pnpm/store
# The three services and what they import (the `...` suffix selects a package's dependencies too).
RUN pnpm --filter '@energy-ingest/gateway...' --filter '@energy-ingest/writer...' \
      --filter '@energy-ingest/analytics...' run build
# Drop devDependencies (TypeScript, vitest, …) from node_modules before the runtime image copies it.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --prod --store-dir=/pnpm/store

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    KAFKAJS_NO_PARTITIONER_WARNING=1
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/packages ./packages
COPY --from=build --chown=node:node /app/services ./services
USER node

FROM runtime AS migrate
CMD ["node", "packages/db/dist/cli/migrate.js"]

FROM runtime AS gateway
ENV PORT=3000
EXPOSE 3000
CMD ["node", "services/gateway/dist/main.js"]

FROM runtime AS writer
ENV WRITER_PORT=3002
EXPOSE 3002
CMD ["node", "services/writer/dist/main.js"]

FROM runtime AS analytics
ENV PORT=3001
EXPOSE 3001
CMD ["node", "services/analytics/dist/main.js"]

# ---------------------------------------------------------------------------------------------------
# PostgreSQL: the @embedded-postgres binaries the local test environment runs, at the version
# packages/localstack/package.json pins, fetched from the npm registry and checked against the
# integrity pnpm-lock.yaml records; on plain Debian (they bring their own libssl, ICU, libxml2).
FROM ${NODE_IMAGE} AS postgres-dist
COPY packages/localstack/package.json pnpm-lock.yaml infra/images/npm-fetch.mjs /tmp/pg/
RUN --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi; \
    node /tmp/pg/npm-fetch.mjs --embedded-postgres /tmp/pg/package.json /tmp/pg/pnpm-lock.yaml /out

FROM ${DEBIAN_IMAGE} AS postgres
# tini is PID 1: health checks killed at their timeout leave orphans behind, and PostgreSQL as PID 1
# would reap them as "untracked child processes" and restart all its sessions when one exits non-zero.
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini && \
    rm -rf /var/lib/apt/lists/* && \
    groupadd --system --gid 999 postgres && \
    useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/bash postgres && \
    mkdir -p /var/lib/postgresql /replica /run/postgresql && \
    chown postgres:postgres /var/lib/postgresql /replica /run/postgresql && \
    chmod 700 /var/lib/postgresql /replica
COPY --from=postgres-dist /out/native /opt/postgresql
COPY infra/images/postgres/pg.sh /usr/local/bin/pg
ENV PATH=/opt/postgresql/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
RUN postgres --version
USER postgres
EXPOSE 5432
HEALTHCHECK --interval=3s --timeout=3s --start-period=30s --retries=3 CMD ["/usr/local/bin/pg", "health"]
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/bin/pg"]
CMD ["server"]

# ---------------------------------------------------------------------------------------------------
# Kafka: the jars infra/kafka/pom.xml resolves from Maven Central (the local test environment's
# classpath, kafka-tools included), on Debian's OpenJDK 17.
FROM ${DEBIAN_IMAGE} AS jre
# tini as PID 1 (see postgres above): the JVM would not reap orphaned health-check processes.
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless tini && \
    rm -rf /var/lib/apt/lists/*

FROM jre AS kafka-jars
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends maven && \
    rm -rf /var/lib/apt/lists/*
COPY infra/kafka/pom.xml /build/pom.xml
# Extra CAs go into this throw-away stage's trust stores only (the kafka image below starts from `jre`).
RUN --mount=type=cache,id=maven-repo,target=/root/.m2 --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then \
      awk '/BEGIN CERTIFICATE/{n++} {print > ("/usr/local/share/ca-certificates/extra-" n ".crt")}' \
        /run/secrets/extra_ca && update-ca-certificates >/dev/null; \
    fi; \
    mvn -q -B -f /build/pom.xml dependency:copy-dependencies \
      -DoutputDirectory=/out/libs -DincludeScope=runtime && \
    ls /out/libs | grep -E '^kafka_2\.13-.*\.jar$'

FROM jre AS kafka
RUN groupadd --system --gid 1001 kafka && \
    useradd --system --uid 1001 --gid kafka --home-dir /var/lib/kafka kafka && \
    mkdir -p /var/lib/kafka/data && chown -R kafka:kafka /var/lib/kafka
COPY --from=kafka-jars /out/libs /opt/kafka/libs
COPY infra/kafka/log4j2.properties infra/kafka/server.properties /opt/kafka/config/
COPY infra/images/kafka/kafka.sh /usr/local/bin/kafka
USER kafka
EXPOSE 9092
HEALTHCHECK --interval=5s --timeout=6s --start-period=30s --retries=3 CMD ["/usr/local/bin/kafka", "health"]
ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/bin/kafka"]
CMD ["broker"]

# ---------------------------------------------------------------------------------------------------
# Prometheus: Debian's package (no registry needed), scraping the services of docker-compose.yml.
FROM ${DEBIAN_IMAGE} AS prometheus
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus tini && \
    rm -rf /var/lib/apt/lists/* && \
    install -d -o prometheus -g prometheus /var/lib/prometheus
COPY infra/prometheus/prometheus.yml /etc/prometheus/prometheus.yml
COPY infra/images/prometheus/health.sh /usr/local/bin/prometheus-health
RUN prometheus --version && promtool check config /etc/prometheus/prometheus.yml
USER prometheus
EXPOSE 9090
HEALTHCHECK --interval=5s --timeout=4s --start-period=10s --retries=3 CMD ["/usr/local/bin/prometheus-health"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/var/lib/prometheus", \
     "--storage.tsdb.retention.time=15d", "--web.listen-address=:9090"]
