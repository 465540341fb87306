# One image for every spar service; the command picks the service.
#   docker build -t spar .
#   docker run --network host -e REDIS_URL=redis://127.0.0.1:6379 spar services/learner/src/bin.ts
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
COPY packages ./packages
COPY services ./services
COPY proto ./proto
COPY configs ./configs
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
RUN mkdir -p /data && chown node:node /data
USER node
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["services/controller/src/bin.ts"]
