import { sparClient, sparProto, type GrpcTls } from '@spar/service-kit';
import type { JudgeServiceClient } from '../../../proto/generated/spar/v1/JudgeService.ts';
import type { TaskValidity__Output } from '../../../proto/generated/spar/v1/TaskValidity.ts';

export type { TaskValidity__Output as TaskValidity };

/** ValidateTasks with a deadline; rejects with the gRPC status on failure. */
export class JudgeClient {
  private readonly client: JudgeServiceClient;
  /** `token`: the shared gRPC token (SPAR_GRPC_TOKEN), sent on every call when set; `tls`: SPAR_GRPC_TLS_*. */
  constructor(address: string, private readonly deadlineMs: number, token?: string, tls?: GrpcTls) {
    const { JudgeService } = sparProto();
    this.client = sparClient(JudgeService, address, token, tls);
  }

  validate(experimentId: string, tasks: readonly unknown[]): Promise<TaskValidity__Output[]> {
    return new Promise((resolve, reject) => {
      this.client.ValidateTasks({ experiment_id: experimentId, tasks_json: tasks.map((t) => JSON.stringify(t)) }, { deadline: Date.now() + this.deadlineMs }, (err, res) => {
        if (err) reject(err);
        else resolve(res!.results);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
