// Original file: proto/spar.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetPolicyRequest as _spar_v1_GetPolicyRequest, GetPolicyRequest__Output as _spar_v1_GetPolicyRequest__Output } from '../../spar/v1/GetPolicyRequest';
import type { PolicyAnnouncement as _spar_v1_PolicyAnnouncement, PolicyAnnouncement__Output as _spar_v1_PolicyAnnouncement__Output } from '../../spar/v1/PolicyAnnouncement';
import type { PolicyChunk as _spar_v1_PolicyChunk, PolicyChunk__Output as _spar_v1_PolicyChunk__Output } from '../../spar/v1/PolicyChunk';
import type { WatchPolicyRequest as _spar_v1_WatchPolicyRequest, WatchPolicyRequest__Output as _spar_v1_WatchPolicyRequest__Output } from '../../spar/v1/WatchPolicyRequest';

export interface PolicyServiceClient extends grpc.Client {
  GetPolicy(argument: _spar_v1_GetPolicyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyChunk__Output>;
  GetPolicy(argument: _spar_v1_GetPolicyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyChunk__Output>;
  getPolicy(argument: _spar_v1_GetPolicyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyChunk__Output>;
  getPolicy(argument: _spar_v1_GetPolicyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyChunk__Output>;
  
  WatchPolicy(argument: _spar_v1_WatchPolicyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyAnnouncement__Output>;
  WatchPolicy(argument: _spar_v1_WatchPolicyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyAnnouncement__Output>;
  watchPolicy(argument: _spar_v1_WatchPolicyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyAnnouncement__Output>;
  watchPolicy(argument: _spar_v1_WatchPolicyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_spar_v1_PolicyAnnouncement__Output>;
  
}

export interface PolicyServiceHandlers extends grpc.UntypedServiceImplementation {
  GetPolicy: grpc.handleServerStreamingCall<_spar_v1_GetPolicyRequest__Output, _spar_v1_PolicyChunk>;
  
  WatchPolicy: grpc.handleServerStreamingCall<_spar_v1_WatchPolicyRequest__Output, _spar_v1_PolicyAnnouncement>;
  
}

export interface PolicyServiceDefinition extends grpc.ServiceDefinition {
  GetPolicy: MethodDefinition<_spar_v1_GetPolicyRequest, _spar_v1_PolicyChunk, _spar_v1_GetPolicyRequest__Output, _spar_v1_PolicyChunk__Output>
  WatchPolicy: MethodDefinition<_spar_v1_WatchPolicyRequest, _spar_v1_PolicyAnnouncement, _spar_v1_WatchPolicyRequest__Output, _spar_v1_PolicyAnnouncement__Output>
}
