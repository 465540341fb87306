// Original file: proto/spar.proto


export interface ValidateTasksRequest {
  'experiment_id'?: (string);
  'tasks_json'?: (string)[];
}

export interface ValidateTasksRequest__Output {
  'experiment_id': (string);
  'tasks_json': (string)[];
}
