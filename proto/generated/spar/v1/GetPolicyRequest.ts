// Original file: proto/spar.proto

import type { Long } from '@grpc/proto-loader';

export interface GetPolicyRequest {
  'experiment_id'?: (string);
  'version'?: (number | string | Long);
  'policy'?: (string);
}

export interface GetPolicyRequest__Output {
  'experiment_id': (string);
  'version': (string);
  'policy': (string);
}
