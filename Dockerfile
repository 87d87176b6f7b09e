# syntax=docker/dockerfile:1
# image-service: multi-stage build. Compiled output and production dependencies only, run as the unprivileged
# `node` user, started with `node` (not npm) so SIGTERM reaches the service and it closes gracefully.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app

# better-sqlite3 compiles its native module when no prebuilt binary fits the platform.
FROM base AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM base AS runtime
# MALLOC_ARENA_MAX: glibc otherwise keeps an arena per libvips thread and the memory image processing freed with it
# (figures: docs/performance.md, "Images").
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MALLOC_ARENA_MAX=2
COPY --chown=root:root package.json ./
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The only writable places: development images (uploads/) and the SQLite file (data/). Mount volumes there.
RUN mkdir -p uploads/profile data && chown -R node:node uploads data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# No node flags: the service sizes V8's young generation for its mode itself (src/young-generation.ts): held small
# in development, which streams uploads through the process; V8's default in production, where tickets are the hot
# path (docs/performance.md). A --max-semi-space-size given here would be left as given.
CMD ["node", "dist/server.js"]
