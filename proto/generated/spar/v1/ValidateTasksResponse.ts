// Original file: proto/spar.proto

import type { TaskValidity as _spar_v1_TaskValidity, TaskValidity__Output as _spar_v1_TaskValidity__Output } from '../../spar/v1/TaskValidity';

export interface ValidateTasksResponse {
  'results'?: (_spar_v1_TaskValidity)[];
}

export interface ValidateTasksResponse__Output {
  'results': (_spar_v1_TaskValidity__Output)[];
}
