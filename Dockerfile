# One image for every spar service; the command picks the service:
#   docker build -t spar .
#   docker run --network host -e REDIS_URL=redis://127.0.0.1:6379 spar services/learner/src/bin.js
# Services run compiled JavaScript (scripts/docker/build.mjs), as uid 1000, with a HEALTHCHECK on
# the service's /healthz. Build arguments:
#   BASE_IMAGE             image with Node.js 24 at /usr/local/bin/node (and npm, unless the context
#                          carries .docker-deps/node_modules) for the build stage
#   RUNTIME_IMAGE          image the services run in (default BASE_IMAGE; the compose `gpu` profile
#                          uses a CUDA runtime image and RUNTIME_NEEDS_NODE=true: the build stage's
#                          node binary is copied in)
#   ONNXRUNTIME_NODE_INSTALL  skip (default, CPU) or cuda12 (onnxruntime-node fetches its CUDA EP)
# Every RUN is exec form, so a base needs no shell.
ARG BASE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=${BASE_IMAGE}

FROM ${BASE_IMAGE} AS build
ARG ONNXRUNTIME_NODE_INSTALL=skip
ARG RUNTIME_NEEDS_NODE=false
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL} RUNTIME_NEEDS_NODE=${RUNTIME_NEEDS_NODE}
WORKDIR /src
COPY . .
RUN ["node", "scripts/docker/install.mjs"]
RUN ["node", "scripts/docker/build.mjs", "/app", "/overlay"]

FROM ${RUNTIME_IMAGE}
# Empty unless RUNTIME_NEEDS_NODE=true (then usr/local/bin/node).
COPY --from=build /overlay/ /
COPY --from=build /app /app
COPY --from=build --chown=1000:1000 /overlay-data/ /
WORKDIR /app
ENV NODE_ENV=production SPAR_PORT_FILE=/tmp/spar-ops.port
USER 1000:1000
HEALTHCHECK --interval=10s --timeout=4s --start-period=60s --retries=3 CMD ["node", "scripts/docker/healthcheck.mjs"]
ENTRYPOINT ["node"]
CMD ["services/controller/src/bin.js"]
