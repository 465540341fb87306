// Original file: proto/spar.proto


export interface TaskValidity {
  'valid'?: (boolean);
  'reason'?: (string);
  'canonical'?: (string);
  'task_json'?: (string);
}

export interface TaskValidity__Output {
  'valid': (boolean);
  'reason': (string);
  'canonical': (string);
  'task_json': (string);
}
