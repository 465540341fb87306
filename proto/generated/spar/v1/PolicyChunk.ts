// Original file: proto/spar.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyChunk {
  'version'?: (number | string | Long);
  'sha256'?: (string);
  'total_bytes'?: (number | string | Long);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface PolicyChunk__Output {
  'version': (string);
  'sha256': (string);
  'total_bytes': (string);
  'offset': (string);
  'data': (Buffer);
}
