// Imported before onnxruntime-node (ES modules evaluate in import order). onnxruntime 1.29 on Linux
// starts a telemetry system that uploads over HTTPS and persists a device id. spar never wants
// that: training hosts and containers have no reason to phone home. It also segfaults
// (fclose(NULL)) where /etc/machine-id is missing, as in minimal container images. A value the
// user set is kept (ORT_DISABLE_TELEMETRY=0 opts back in). Must run on the main thread before any
// worker starts: a worker's process.env is a copy, but the native environment is shared.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
