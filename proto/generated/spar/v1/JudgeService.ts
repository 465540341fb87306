// Original file: proto/spar.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ValidateTasksRequest as _spar_v1_ValidateTasksRequest, ValidateTasksRequest__Output as _spar_v1_ValidateTasksRequest__Output } from '../../spar/v1/ValidateTasksRequest';
import type { ValidateTasksResponse as _spar_v1_ValidateTasksResponse, ValidateTasksResponse__Output as _spar_v1_ValidateTasksResponse__Output } from '../../spar/v1/ValidateTasksResponse';

export interface JudgeServiceClient extends grpc.Client {
  ValidateTasks(argument: _spar_v1_ValidateTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  ValidateTasks(argument: _spar_v1_ValidateTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  ValidateTasks(argument: _spar_v1_ValidateTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  ValidateTasks(argument: _spar_v1_ValidateTasksRequest, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  validateTasks(argument: _spar_v1_ValidateTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  validateTasks(argument: _spar_v1_ValidateTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  validateTasks(argument: _spar_v1_ValidateTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  validateTasks(argument: _spar_v1_ValidateTasksRequest, callback: grpc.requestCallback<_spar_v1_ValidateTasksResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface JudgeServiceHandlers extends grpc.UntypedServiceImplementation {
  ValidateTasks: grpc.handleUnaryCall<_spar_v1_ValidateTasksRequest__Output, _spar_v1_ValidateTasksResponse>;
  
}

export interface JudgeServiceDefinition extends grpc.ServiceDefinition {
  ValidateTasks: MethodDefinition<_spar_v1_ValidateTasksRequest, _spar_v1_ValidateTasksResponse, _spar_v1_ValidateTasksRequest__Output, _spar_v1_ValidateTasksResponse__Output>
}
