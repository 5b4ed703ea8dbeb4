# The tradedesk image for users with access to a registry (Docker Hub's node:20-slim). Build it with
#   docker build -t tradedesk .
# It runs the server by default (`docker run ... tradedesk serve`) and a bot when the bot runtime
# starts it with `bot`. Where no registry can be reached (as in this project's CI), scripts/build-image.mjs
# (`npm run build:image`) builds an equivalent FROM scratch image from the local node and node_modules,
# and scripts/build-dockerfile-check.sh builds this Dockerfile on a local stand-in for node:20-slim.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY prompts ./prompts
RUN node scripts/build.mjs

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Without what node never loads from a package (source maps, TypeScript sources and declarations,
# markdown), as scripts/build-image.mjs leaves it out: some 45 MB.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && find node_modules -type f \( -iname '*.map' -o -iname '*.ts' -o -iname '*.cts' -o -iname '*.mts' -o -iname '*.md' \) -delete

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY prompts ./prompts
COPY bin ./bin
# A user with no privileges and no shell; bots keep their state in the volume mounted at /state.
RUN groupadd --system --gid 10001 tradedesk \
 && useradd --system --uid 10001 --gid tradedesk --home-dir /state --shell /usr/sbin/nologin tradedesk \
 && mkdir -p /state /data && chown tradedesk:tradedesk /state /data
USER tradedesk
ENV DATA_DIR=/data
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve"]
