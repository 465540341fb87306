// Original file: proto/spar.proto


export interface WatchPolicyRequest {
  'experiment_id'?: (string);
  'policy'?: (string);
}

export interface WatchPolicyRequest__Output {
  'experiment_id': (string);
  'policy': (string);
}
