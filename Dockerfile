# syntax=docker/dockerfile:1
# One image definition for every service of the repository; pick one with --target:
#   docker build --target gateway -t energy-ingest/gateway .
# targets: gateway, writer, analytics, migrate. docker-compose.yml builds all four (the build stage is
# shared, so the workspace is installed and compiled once).

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true
RUN npm install --global --no-audit --no-fund pnpm@10.34.8
WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lockfile changes.
FROM base AS deps
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch --store-dir=/pnpm/store

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
