import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { GetPolicyRequest as _spar_v1_GetPolicyRequest, GetPolicyRequest__Output as _spar_v1_GetPolicyRequest__Output } from './spar/v1/GetPolicyRequest';
import type { JudgeServiceClient as _spar_v1_JudgeServiceClient, JudgeServiceDefinition as _spar_v1_JudgeServiceDefinition } from './spar/v1/JudgeService';
import type { PolicyAnnouncement as _spar_v1_PolicyAnnouncement, PolicyAnnouncement__Output as _spar_v1_PolicyAnnouncement__Output } from './spar/v1/PolicyAnnouncement';
import type { PolicyChunk as _spar_v1_PolicyChunk, PolicyChunk__Output as _spar_v1_PolicyChunk__Output } from './spar/v1/PolicyChunk';
import type { PolicyServiceClient as _spar_v1_PolicyServiceClient, PolicyServiceDefinition as _spar_v1_PolicyServiceDefinition } from './spar/v1/PolicyService';
import type { TaskValidity as _spar_v1_TaskValidity, TaskValidity__Output as _spar_v1_TaskValidity__Output } from './spar/v1/TaskValidity';
import type { ValidateTasksRequest as _spar_v1_ValidateTasksRequest, ValidateTasksRequest__Output as _spar_v1_ValidateTasksRequest__Output } from './spar/v1/ValidateTasksRequest';
import type { ValidateTasksResponse as _spar_v1_ValidateTasksResponse, ValidateTasksResponse__Output as _spar_v1_ValidateTasksResponse__Output } from './spar/v1/ValidateTasksResponse';
import type { WatchPolicyRequest as _spar_v1_WatchPolicyRequest, WatchPolicyRequest__Output as _spar_v1_WatchPolicyRequest__Output } from './spar/v1/WatchPolicyRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  spar: {
    v1: {
      GetPolicyRequest: MessageTypeDefinition<_spar_v1_GetPolicyRequest, _spar_v1_GetPolicyRequest__Output>
      JudgeService: SubtypeConstructor<typeof grpc.Client, _spar_v1_JudgeServiceClient> & { service: _spar_v1_JudgeServiceDefinition }
      PolicyAnnouncement: MessageTypeDefinition<_spar_v1_PolicyAnnouncement, _spar_v1_PolicyAnnouncement__Output>
      PolicyChunk: MessageTypeDefinition<_spar_v1_PolicyChunk, _spar_v1_PolicyChunk__Output>
      PolicyService: SubtypeConstructor<typeof grpc.Client, _spar_v1_PolicyServiceClient> & { service: _spar_v1_PolicyServiceDefinition }
      TaskValidity: MessageTypeDefinition<_spar_v1_TaskValidity, _spar_v1_TaskValidity__Output>
      ValidateTasksRequest: MessageTypeDefinition<_spar_v1_ValidateTasksRequest, _spar_v1_ValidateTasksRequest__Output>
      ValidateTasksResponse: MessageTypeDefinition<_spar_v1_ValidateTasksResponse, _spar_v1_ValidateTasksResponse__Output>
      WatchPolicyRequest: MessageTypeDefinition<_spar_v1_WatchPolicyRequest, _spar_v1_WatchPolicyRequest__Output>
    }
  }
}

