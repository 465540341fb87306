import { grpc } from '@spar/service-kit';

/**
 * One raw unary call (an empty message) to `path` at `address` with these credentials: 'ok', or
 * the gRPC status code it failed with. What a test needs to tell whether a server speaks TLS
 * (UNAVAILABLE for a client that does not match it) without a typed client.
 */
export function grpcProbe(address: string, path: string, creds: grpc.ChannelCredentials): Promise<'ok' | number> {
  const c = new grpc.Client(address, creds);
  const id = (x: Buffer) => x;
  return new Promise((res) => {
    c.makeUnaryRequest(path, id, id, Buffer.alloc(0), { deadline: Date.now() + 20000 }, (err) => { c.close(); res(err ? err.code : 'ok'); });
  });
}
