# Build stage: install everything, compile, then drop dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage: the compiled app and production dependencies only, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production RHYTHM_ADDR=0.0.0.0:8000 RHYTHM_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8000/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The heap cap bounds RSS (V8 otherwise lets garbage grow far past the live set); raise
# RHYTHM_HEAP_MB for very large job counts (docs/configuration.md).
CMD ["sh", "-c", "exec node --max-old-space-size=${RHYTHM_HEAP_MB:-192} dist/apps/api/apps/api/src/main.js"]
