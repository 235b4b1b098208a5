# One image for the worker, the API and the dashboard; docker-compose.yml picks the command.
FROM node:20-bookworm-slim AS base
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# ONNXRUNTIME_NODE_INSTALL=skip: the CPU runtime is in the package; the script only fetches GPU libraries.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY . .
# Generates both Prisma clients (the image connects to PostgreSQL; SQLite stays available for tools).
RUN mkdir -p node_modules/.cache/homeostat && touch node_modules/.cache/homeostat/no-native-engine \
 && for p in sqlite postgresql; do \
      DATABASE_URL=file:./data/unused.db \
      PRISMA_SCHEMA_ENGINE_BINARY=/app/node_modules/.cache/homeostat/no-native-engine \
      PRISMA_QUERY_ENGINE_LIBRARY=/app/node_modules/.cache/homeostat/no-native-engine \
      npx prisma generate --schema prisma/$p/schema.prisma; \
    done \
 && NEXT_TELEMETRY_DISABLED=1 npx next build dashboard
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1
CMD ["node", "--import", "tsx", "worker/main.ts"]
