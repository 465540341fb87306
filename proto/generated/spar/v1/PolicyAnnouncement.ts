// Original file: proto/spar.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyAnnouncement {
  'experiment_id'?: (string);
  'version'?: (number | string | Long);
  'sha256'?: (string);
  'bytes'?: (number | string | Long);
}

export interface PolicyAnnouncement__Output {
  'experiment_id': (string);
  'version': (string);
  'sha256': (string);
  'bytes': (string);
}
