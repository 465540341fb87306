export {
  decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES,
  type CheckpointDType, type CheckpointTensor, type DecodedSafetensors,
} from './safetensors.ts';
export {
  canonicalJson, checkpointDir, contentHash, discardCheckpointsAbove, latestCheckpoint, listCheckpoints, loadCheckpoint, pruneCheckpoints,
  requireTensor, saveCheckpoint, writeFolderAtomic, CHECKPOINT_FORMAT, MANIFEST_FILE, METADATA_KEY, MODEL_FILE,
  type CheckpointContent, type CheckpointManifest, type CheckpointRef, type JsonObject, type JsonValue,
  type LoadedCheckpoint, type SavedCheckpoint,
} from './store.ts';
