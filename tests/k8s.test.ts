/**
 * deploy/k8s, validated offline (no cluster, no kubectl): every kustomization is rendered with
 * scripts/kustomize-lite.ts, every object is checked against the Kubernetes / KEDA schemas of the
 * `kubernetes-models` packages (`validate()`), against the field names those packages declare (the
 * schemas themselves accept unknown fields, as `kubectl apply --validate=strict` would not), and
 * for the cross-references a schema cannot see: selectors, ports, env settings, Secret keys,
 * NetworkPolicy flows, KEDA targets and metrics, the security baseline.
 *   node scripts/run-tests.mjs tests/k8s
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { METRIC_CATALOG } from '@spar/service-kit';
import { ControllerConfigSchema, loadConfig as loadControllerConfig } from '../services/controller/src/config.ts';
import { JudgeConfigSchema, loadConfig as loadJudgeConfig } from '../services/judge/src/config.ts';
import { LearnerConfigSchema, loadConfig as loadLearnerConfig } from '../services/learner/src/config.ts';
import { ProposerConfigSchema, loadConfig as loadProposerConfig } from '../services/proposer/src/config.ts';
import { SolverConfigSchema, loadConfig as loadSolverConfig } from '../services/solver/src/config.ts';
import { K8S_DIR, parseImage, podSpecOf, render, type K8sObject } from '../scripts/kustomize-lite.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NS = 'spar';
type Obj = Record<string, any>;

const example = { useExampleEnvFiles: true } as const;
const renderBase = () => render(join(K8S_DIR, 'base'), example);
const renderOverlay = (name: string) => render(join(K8S_DIR, 'overlays', name), example);
const clone = <T>(v: T): T => structuredClone(v);

// ---- the contract each spar service is checked against ------------------------------------------

type ServiceName = 'controller' | 'judge' | 'solver' | 'proposer' | 'learner';
interface ServiceContract {
  readonly schema: { readonly properties: Record<string, unknown> };
  /** The service's own config loader (throws on an unknown or invalid setting, as at start). */
  readonly load: (env: NodeJS.ProcessEnv, argv: string[]) => unknown;
  /** Named container ports and their numbers (the image contract). */
  readonly ports: Record<string, number>;
  /** The setting that binds each named port. */
  readonly portEnv: Record<string, string>;
}
const SERVICES: Record<ServiceName, ServiceContract> = {
  controller: { schema: ControllerConfigSchema, load: loadControllerConfig, ports: { http: 8080 }, portEnv: { http: 'SPAR_HTTP_PORT' } },
  judge: { schema: JudgeConfigSchema, load: loadJudgeConfig, ports: { grpc: 50052, ops: 9465 }, portEnv: { grpc: 'SPAR_GRPC_PORT', ops: 'SPAR_OPS_PORT' } },
  solver: { schema: SolverConfigSchema, load: loadSolverConfig, ports: { ops: 9466 }, portEnv: { ops: 'SPAR_OPS_PORT' } },
  proposer: { schema: ProposerConfigSchema, load: loadProposerConfig, ports: { ops: 9467 }, portEnv: { ops: 'SPAR_OPS_PORT' } },
  learner: { schema: LearnerConfigSchema, load: loadLearnerConfig, ports: { grpc: 50051, ops: 9468 }, portEnv: { grpc: 'SPAR_GRPC_PORT', ops: 'SPAR_OPS_PORT' } },
};

/**
 * Names a container may set although its service's schema does not list them. Empty: every name
 * set in deploy/k8s is a setting of its service. (While SPAR_ADVERTISE_HOST was being added to the
 * schemas it was allowed here; since the service-discovery change every schema has it. The tokens
 * are set only where the schema has them.)
 */
const NOT_YET_IN_SCHEMA = new Set<string>();

/** Sample values for downward-API fields, to feed each service's config loader. */
const FIELD_SAMPLES: Record<string, string> = { 'status.podIP': '10.244.0.17', 'metadata.name': 'learner-0', 'metadata.namespace': NS };

// ---- schema validation (kubernetes-models) -------------------------------------------------------

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/Namespace': Namespace, 'v1/ConfigMap': ConfigMap, 'v1/Secret': Secret, 'v1/Service': Service,
  'apps/v1/Deployment': Deployment, 'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy, 'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/** Where each kind's TypeScript declaration lives; the strict-field check walks the declarations from there. */
const DECLARATIONS: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1/Namespace', 'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap', 'v1/Secret': 'kubernetes-models/v1/Secret',
  'v1/Service': 'kubernetes-models/v1/Service', 'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'apps/v1/StatefulSet': 'kubernetes-models/apps/v1/StatefulSet', 'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'keda.sh/v1alpha1/ScaledObject': '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
};

interface Decl { props: Map<string, string | undefined> } // property → declaration file of its (element) type, if it is an interface
const declCache = new Map<string, Decl | null>();

/**
 * The properties of the interface declared in a kubernetes-models .d.ts file, each with the file of
 * its type when that type is another declared interface (or an array of one). Maps and primitives
 * have no file: their contents are not walked. The generated declarations put one property per
 * line at four spaces' indent, which is all this reads.
 */
function declaration(spec: string): Decl | null {
  if (declCache.has(spec)) return declCache.get(spec)!;
  const file = join(ROOT, 'node_modules', `${spec}.d.ts`);
  let out: Decl | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const imports = new Map<string, string>();
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
      const from = m[2]!;
      imports.set(m[1]!, from.startsWith('.') ? join(dirname(spec), from).replace(/\.js$/, '') : from.replace(/\.js$/, ''));
    }
    const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(text);
    if (!body && /^export interface /m.test(text)) throw new Error(`cannot read the interface in ${file}`);
    if (body) {
      out = { props: new Map() };
      for (const m of body[1]!.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
        const t = /^(?:Array<)?(I\w+)>?;?$/.exec(m[2]!.trim());
        out.props.set(m[1]!, t ? imports.get(t[1]!) : undefined);
      }
    }
  }
  declCache.set(spec, out);
  return out;
}

function unknownFields(value: unknown, spec: string, path: string, problems: string[], root = false): void {
  const d = declaration(spec);
  if (!d) { if (root) problems.push(`${path}: no declaration ${spec}`); return; }
  const visit = (v: unknown, p: string) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    for (const [k, child] of Object.entries(v)) {
      if (!d.props.has(k)) { problems.push(`${p}/${k}: unknown field (not in ${spec})`); continue; }
      const childSpec = d.props.get(k);
      if (!childSpec) continue;
      if (Array.isArray(child)) child.forEach((c, i) => unknownFields(c, childSpec, `${p}/${k}/${i}`, problems));
      else unknownFields(child, childSpec, `${p}/${k}`, problems);
    }
  };
  visit(value, path);
}

const idOf = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const gvk = (o: K8sObject) => `${o.apiVersion}/${o.kind}`;

function schemaProblems(objs: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objs) {
    const Model = MODELS[gvk(o)];
    if (!Model) { problems.push(`${idOf(o)}: no schema for ${gvk(o)} (add it to MODELS)`); continue; }
    const copy = clone(o);
    // kustomize writes base64 longer than 70 characters in lines; the API server's decoder (Go's
    // encoding/base64) skips the newlines, the schema's "byte" format does not: compare unwrapped.
    if (o.kind === 'Secret' && copy.data) copy.data = Object.fromEntries(Object.entries(copy.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\n/g, '')]));
    try { new Model(copy).validate(); } catch (err) { problems.push(`${idOf(o)}: ${(err as Error).message}`); }
    unknownFields(o, DECLARATIONS[gvk(o)]!, idOf(o), problems, true);
  }
  return problems;
}

// ---- cross-references ----------------------------------------------------------------------------

interface Pod { owner: K8sObject; labels: Record<string, string>; spec: Obj }

const workloads = (objs: readonly K8sObject[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const pods = (objs: readonly K8sObject[]): Pod[] => workloads(objs).map((w) => ({ owner: w, labels: (w.spec as Obj).template.metadata?.labels ?? {}, spec: podSpecOf(w) as Obj }));
const containers = (p: Pod): Obj[] => [...(p.spec.initContainers ?? []), ...(p.spec.containers ?? [])];
const find = (objs: readonly K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const serviceOf = (c: Obj): ServiceName | undefined => {
  const m = /^services\/(\w+)\/src\/bin\.js$/.exec(String(c.command?.[1] ?? ''));
  return m && m[1]! in SERVICES ? (m[1] as ServiceName) : undefined;
};

function selectorMatches(sel: Obj | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries((sel.matchLabels ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  for (const e of (sel.matchExpressions ?? []) as Obj[]) {
    const has = e.key in labels;
    const ok = e.operator === 'In' ? has && e.values.includes(labels[e.key]) : e.operator === 'NotIn' ? !has || !e.values.includes(labels[e.key])
      : e.operator === 'Exists' ? has : e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}

/** A port reference (number or name) against a pod's container ports; the number it resolves to. */
function resolvePort(p: Pod, ref: number | string): number | undefined {
  for (const c of containers(p)) for (const port of (c.ports ?? []) as Obj[]) {
    if (typeof ref === 'number' ? port.containerPort === ref : port.name === ref) return port.containerPort;
  }
  return undefined;
}

function decoded(o: K8sObject | undefined): Record<string, string> | undefined {
  if (!o) return undefined;
  const data = (o.data ?? {}) as Record<string, string>;
  return o.kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) : data;
}

/** The environment a container would see, with references resolved; problems for dangling ones. */
function environment(objs: readonly K8sObject[], c: Obj, where: string, problems: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const src of (c.envFrom ?? []) as Obj[]) {
    const [kind, ref] = src.configMapRef ? ['ConfigMap', src.configMapRef] : ['Secret', src.secretRef];
    const data = decoded(find(objs, kind, ref?.name));
    if (!data) { if (!ref?.optional) problems.push(`${where}: envFrom ${kind} ${ref?.name} does not exist`); continue; }
    Object.assign(env, data);
  }
  const names = new Set<string>();
  for (const e of (c.env ?? []) as Obj[]) {
    if (names.has(e.name)) problems.push(`${where}: env ${e.name} is set twice`);
    names.add(e.name);
    if (e.value !== undefined) { env[e.name] = String(e.value); continue; }
    const vf = e.valueFrom ?? {};
    if (vf.fieldRef) {
      const v = FIELD_SAMPLES[vf.fieldRef.fieldPath];
      if (v === undefined) problems.push(`${where}: env ${e.name}: no sample for fieldRef ${vf.fieldRef.fieldPath}`);
      else env[e.name] = v;
      continue;
    }
    const [kind, ref] = vf.secretKeyRef ? ['Secret', vf.secretKeyRef] : vf.configMapKeyRef ? ['ConfigMap', vf.configMapKeyRef] : [undefined, undefined];
    if (!kind) { problems.push(`${where}: env ${e.name} has neither value nor a supported valueFrom`); continue; }
    const data = decoded(find(objs, kind, ref.name));
    if (!data) { problems.push(`${where}: env ${e.name}: ${kind} ${ref.name} does not exist`); continue; }
    if (!(ref.key in data)) { problems.push(`${where}: env ${e.name}: ${kind} ${ref.name} has no key ${ref.key}`); continue; }
    env[e.name] = data[ref.key]!;
  }
  return env;
}

function crossRefProblems(objs: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const all = pods(objs);
  const ns = objs.filter((o) => o.kind === 'Namespace');
  if (ns.length !== 1 || ns[0]!.metadata.name !== NS) problems.push(`expected exactly the Namespace ${NS}`);
  for (const o of objs) if (o.kind !== 'Namespace' && o.metadata.namespace !== NS) problems.push(`${idOf(o)}: namespace ${o.metadata.namespace} (expected ${NS})`);

  // Workloads: selector ↔ template labels, probes, images, env, ports.
  for (const p of all) {
    const w = idOf(p.owner);
    const spec = p.owner.spec as Obj;
    if (!selectorMatches(spec.selector, p.labels)) problems.push(`${w}: selector does not match its own pod labels`);
    const mounts = new Set<string>();
    for (const c of containers(p)) {
      const where = `${w}/${c.name}`;
      if (!c.image) problems.push(`${where}: no image`);
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const pr = c[kind] as Obj | undefined;
        const port = pr?.httpGet?.port ?? pr?.tcpSocket?.port ?? pr?.grpc?.port;
        if (port !== undefined && !(c.ports ?? []).some((x: Obj) => x.name === port || x.containerPort === port)) problems.push(`${where}: ${kind} port ${port} is not a port of the container`);
      }
      for (const m of (c.volumeMounts ?? []) as Obj[]) {
        mounts.add(m.name);
        const declared = (p.spec.volumes ?? []).some((v: Obj) => v.name === m.name) || (spec.volumeClaimTemplates ?? []).some((v: Obj) => v.metadata.name === m.name);
        if (!declared) problems.push(`${where}: volumeMount ${m.name} has no volume`);
      }
      const svc = serviceOf(c);
      const env = environment(objs, c, where, problems);
      if (!svc) continue;
      // Every name set is a real setting of that service.
      const props = SERVICES[svc].schema.properties as Record<string, unknown>;
      for (const name of Object.keys(env)) {
        if (!(name in props) && !NOT_YET_IN_SCHEMA.has(name)) problems.push(`${where}: ${name} is not a setting of the ${svc} (services/${svc}/src/config.ts)`);
      }
      if (svc === 'controller' && 'SPAR_GRPC_TOKEN' in env) problems.push(`${where}: the controller has no gRPC; SPAR_GRPC_TOKEN does not belong there`);
      if (svc !== 'controller' && !('SPAR_GRPC_TOKEN' in env)) problems.push(`${where}: SPAR_GRPC_TOKEN unset: gRPC would be open`);
      if (svc === 'controller' && !('SPAR_API_TOKEN' in env)) problems.push(`${where}: SPAR_API_TOKEN unset: the API would be open`);
      // …and the service accepts the whole environment as it would at start (types, ranges).
      const forLoad = Object.fromEntries(Object.entries(env).filter(([k]) => k in props || !k.startsWith('SPAR_')));
      try { SERVICES[svc].load(forLoad, []); } catch (err) { problems.push(`${where}: the ${svc} would refuse its environment: ${(err as Error).message}`); }
      // Ports: the contract's numbers, named, and the same as the settings that bind them.
      for (const [name, number] of Object.entries(SERVICES[svc].ports)) {
        if (resolvePort(p, name) !== number) problems.push(`${where}: port ${name} should be ${number}`);
        const envName = SERVICES[svc].portEnv[name]!;
        if (env[envName] !== String(number)) problems.push(`${where}: ${envName}=${env[envName]} but the ${name} port is ${number}`);
      }
      if (c.image !== 'spar:latest') problems.push(`${where}: image ${c.image} (the base ships spar:latest)`);
      if (c.imagePullPolicy !== 'IfNotPresent') problems.push(`${where}: imagePullPolicy should be IfNotPresent (kind/minikube-loaded images)`);
      if (c.command?.[0] !== 'node' || c.command.length !== 2) problems.push(`${where}: command should be ["node", "services/${svc}/src/bin.js"]`);
      if (!existsSync(join(ROOT, `services/${svc}/src/bin.ts`))) problems.push(`${where}: services/${svc}/src/bin.ts does not exist`);
      const annotations = (p.owner.spec as Obj).template.metadata?.annotations ?? {};
      const metricsPort = SERVICES[svc].ports.ops ?? SERVICES[svc].ports.http;
      if (annotations['prometheus.io/scrape'] !== 'true' || annotations['prometheus.io/port'] !== String(metricsPort) || annotations['prometheus.io/path'] !== '/metrics') {
        problems.push(`${where}: prometheus.io annotations should point at /metrics on ${metricsPort}`);
      }
    }
    for (const v of (p.spec.volumes ?? []) as Obj[]) if (!mounts.has(v.name)) problems.push(`${w}: volume ${v.name} is never mounted`);
  }

  // Services select exactly one workload and target its ports.
  for (const s of objs.filter((o) => o.kind === 'Service')) {
    const sel = (s.spec as Obj).selector as Record<string, string> | undefined;
    const hit = sel ? all.filter((p) => selectorMatches({ matchLabels: sel }, p.labels)) : [];
    if (hit.length !== 1) { problems.push(`Service/${s.metadata.name}: selector matches ${hit.length} workloads (expected 1)`); continue; }
    for (const port of ((s.spec as Obj).ports ?? []) as Obj[]) {
      if (resolvePort(hit[0]!, port.targetPort ?? port.port) === undefined) problems.push(`Service/${s.metadata.name}: targetPort ${port.targetPort ?? port.port} is not a port of ${idOf(hit[0]!.owner)}`);
    }
  }
  const learner = find(objs, 'StatefulSet', 'learner');
  if (!learner || (learner.spec as Obj).replicas !== 1) problems.push('StatefulSet/learner: replicas must be 1 (one active learner per experiment; a second would only wait as a standby on the same volume claim name)');
  for (const st of objs.filter((o) => o.kind === 'StatefulSet')) {
    const svc = find(objs, 'Service', (st.spec as Obj).serviceName);
    if (!svc) problems.push(`${idOf(st)}: serviceName ${(st.spec as Obj).serviceName} is not a Service`);
    else if (!selectorMatches({ matchLabels: (svc.spec as Obj).selector }, (st.spec as Obj).template.metadata.labels)) problems.push(`${idOf(st)}: its Service does not select it`);
  }

  // NetworkPolicies select pods that exist; named ports exist on every selected pod.
  for (const np of objs.filter((o) => o.kind === 'NetworkPolicy')) {
    const spec = np.spec as Obj;
    const targets = all.filter((p) => selectorMatches(spec.podSelector, p.labels));
    if (!targets.length) problems.push(`NetworkPolicy/${np.metadata.name}: podSelector selects no pod`);
    for (const rule of (spec.ingress ?? []) as Obj[]) {
      for (const peer of (rule.from ?? []) as Obj[]) {
        if (peer.podSelector && !peer.namespaceSelector && !all.some((p) => selectorMatches(peer.podSelector, p.labels))) problems.push(`NetworkPolicy/${np.metadata.name}: a from.podSelector selects no pod`);
      }
      for (const port of (rule.ports ?? []) as Obj[]) {
        for (const t of targets) if (resolvePort(t, port.port) === undefined) problems.push(`NetworkPolicy/${np.metadata.name}: port ${port.port} is not a port of ${idOf(t.owner)}`);
      }
    }
  }

  // ScaledObjects: a Deployment that leaves its replica count to KEDA; queries on catalogued controller metrics.
  for (const so of objs.filter((o) => o.kind === 'ScaledObject')) {
    const spec = so.spec as Obj;
    const kind = spec.scaleTargetRef.kind ?? 'Deployment';
    const target = find(objs, kind, spec.scaleTargetRef.name);
    if (!target) { problems.push(`ScaledObject/${so.metadata.name}: target ${kind}/${spec.scaleTargetRef.name} does not exist`); continue; }
    if (kind !== 'Deployment' || ['controller', 'learner'].includes(target.metadata.name)) problems.push(`ScaledObject/${so.metadata.name}: only proposer, solver and judge scale`);
    if ((target.spec as Obj).replicas !== undefined) problems.push(`${idOf(target)}: sets replicas although KEDA scales it`);
    if (!(spec.minReplicaCount >= 1 && spec.maxReplicaCount >= spec.minReplicaCount)) problems.push(`ScaledObject/${so.metadata.name}: replica bounds`);
    for (const t of (spec.triggers ?? []) as Obj[]) {
      if (t.type !== 'prometheus') { problems.push(`ScaledObject/${so.metadata.name}: trigger ${t.type} (expected prometheus)`); continue; }
      if (!/^https?:\/\/[^/\s]+/.test(t.metadata.serverAddress ?? '')) problems.push(`ScaledObject/${so.metadata.name}: serverAddress`);
      if (!(Number(t.metadata.threshold) > 0)) problems.push(`ScaledObject/${so.metadata.name}: threshold must be a positive number (as a string)`);
      const metrics = String(t.metadata.query ?? '').match(/\bspar_[a-z_]+/g) ?? [];
      if (!metrics.length) problems.push(`ScaledObject/${so.metadata.name}: query uses no spar metric`);
      for (const m of metrics) {
        if (!METRIC_CATALOG[m]) problems.push(`ScaledObject/${so.metadata.name}: ${m} is not in the metric catalog`);
        else if (!METRIC_CATALOG[m]!.services.includes('controller')) problems.push(`ScaledObject/${so.metadata.name}: ${m} is not exported by the controller`);
      }
    }
  }
  return problems;
}

// ---- security and resources ----------------------------------------------------------------------

const CPU = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
const UNITS: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12, '': 1 };
const BYTES = (q: string) => { const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)$/.exec(q); return m ? Number(m[1]) * UNITS[m[2]!]! : NaN; };

function securityProblems(objs: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const p of pods(objs)) {
    const w = idOf(p.owner);
    const psc = p.spec.securityContext ?? {};
    if (psc.runAsNonRoot !== true) problems.push(`${w}: runAsNonRoot`);
    if (!(psc.runAsUser > 0)) problems.push(`${w}: runAsUser must be a non-root uid`);
    if (psc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${w}: seccompProfile RuntimeDefault`);
    if (p.spec.automountServiceAccountToken !== false) problems.push(`${w}: automountServiceAccountToken should be false (no pod talks to the API server)`);
    for (const v of (p.spec.volumes ?? []) as Obj[]) if (v.hostPath) problems.push(`${w}: hostPath volume ${v.name}`);
    for (const c of containers(p)) {
      const where = `${w}/${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL') || (sc.capabilities?.add ?? []).length) problems.push(`${where}: drop ALL capabilities, add none`);
      if (sc.privileged) problems.push(`${where}: privileged`);
      const r = c.resources ?? {};
      for (const k of ['cpu', 'memory']) {
        if (!r.requests?.[k] || !r.limits?.[k]) { problems.push(`${where}: resources.requests/limits.${k}`); continue; }
        const [req, lim] = k === 'cpu' ? [CPU(r.requests[k]), CPU(r.limits[k])] : [BYTES(r.requests[k]), BYTES(r.limits[k])];
        if (!(req > 0 && req <= lim)) problems.push(`${where}: ${k} request ${r.requests[k]} must be > 0 and ≤ the limit ${r.limits[k]}`);
      }
      if (serviceOf(c)) {
        if (psc.runAsUser !== 1000 || psc.runAsGroup !== 1000) problems.push(`${where}: the image runs as uid/gid 1000`);
        const tmp = (c.volumeMounts ?? []).find((m: Obj) => m.mountPath === '/tmp');
        if (!tmp || !(p.spec.volumes ?? []).some((v: Obj) => v.name === tmp.name && v.emptyDir)) problems.push(`${where}: /tmp must be an emptyDir (read-only root; the image writes SPAR_PORT_FILE there)`);
      }
    }
  }
  return problems;
}

/** Everything the rendered objects must satisfy; [] when they do. */
const problemsOf = (objs: readonly K8sObject[]) => [...schemaProblems(objs), ...crossRefProblems(objs), ...securityProblems(objs)];

// ---- NetworkPolicy semantics ---------------------------------------------------------------------

interface Peer { labels: Record<string, string>; namespace: string; nsLabels: Record<string, string> }
const nsLabels = (name: string) => ({ 'kubernetes.io/metadata.name': name });
const podOf = (objs: readonly K8sObject[], component: string) => {
  const p = pods(objs).find((x) => x.labels['app.kubernetes.io/component'] === component);
  assert.ok(p, `no pod ${component}`);
  return p;
};
const from = (objs: readonly K8sObject[], component: string): Peer => ({ labels: podOf(objs, component).labels, namespace: NS, nsLabels: nsLabels(NS) });
const elsewhere = (namespace: string): Peer => ({ labels: { app: 'anything' }, namespace, nsLabels: nsLabels(namespace) });

/** Whether a TCP connection from `src` to `dst` on `port` is admitted, under Kubernetes' NetworkPolicy rules (ingress only). */
function admitted(objs: readonly K8sObject[], src: Peer, dst: Pod, port: number): boolean {
  const policies = objs.filter((o) => o.kind === 'NetworkPolicy' && selectorMatches((o.spec as Obj).podSelector, dst.labels)
    && ((o.spec as Obj).policyTypes ?? ['Ingress']).includes('Ingress'));
  if (!policies.length) return true;
  return policies.some((np) => ((np.spec as Obj).ingress ?? []).some((rule: Obj) => {
    const peerOk = !rule.from?.length || rule.from.some((peer: Obj) => {
      if (peer.ipBlock) return false;
      const nsOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, src.nsLabels) : src.namespace === np.metadata.namespace;
      const podOk = peer.podSelector ? selectorMatches(peer.podSelector, src.labels) : true;
      return nsOk && podOk;
    });
    const portOk = !rule.ports?.length || rule.ports.some((p: Obj) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || resolvePort(dst, p.port) === port));
    return peerOk && portOk;
  }));
}

// ---- tests ---------------------------------------------------------------------------------------

test('the field-name check reads the declarations it walks', () => {
  const c = declaration('kubernetes-models/v1/Container')!;
  for (const k of ['name', 'image', 'readinessProbe', 'securityContext', 'volumeMounts']) assert.ok(c.props.has(k), k);
  assert.equal(c.props.get('readinessProbe'), 'kubernetes-models/v1/Probe');
  assert.equal(c.props.get('ports'), 'kubernetes-models/v1/ContainerPort');
  assert.equal(declaration('kubernetes-models/apps/v1/Deployment')!.props.get('metadata'), '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta');
  assert.ok(declaration('@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObjectSpec')!.props.has('fallback'));
  const seen: string[] = [];
  unknownFields({ spec: { template: { spec: { containers: [{ name: 'a', imagee: 'x' }] } } } }, 'kubernetes-models/apps/v1/Deployment', 'D', seen, true);
  assert.deepEqual(seen, ['D/spec/template/spec/containers/0/imagee: unknown field (not in kubernetes-models/v1/Container)']);
});

test('the base renders and every object validates against the Kubernetes and KEDA schemas, with no unknown field', () => {
  const objs = renderBase();
  const kinds = objs.map((o) => o.kind).sort();
  for (const k of ['Namespace', 'ConfigMap', 'Secret', 'Service', 'Deployment', 'StatefulSet', 'NetworkPolicy', 'ScaledObject']) assert.ok(kinds.includes(k), `no ${k}`);
  assert.deepEqual(schemaProblems(objs), []);
});

test('base: selectors, ports, probes, env settings, Secret keys, NetworkPolicies and ScaledObjects all refer to things that exist', () => {
  assert.deepEqual(crossRefProblems(renderBase()), []);
});

test('base: every pod meets the restricted baseline and has requests and limits; the learner gets the most', () => {
  const objs = renderBase();
  assert.deepEqual(securityProblems(objs), []);
  const spar = pods(objs).flatMap((p) => containers(p).filter(serviceOf).map((c) => ({ svc: serviceOf(c)!, r: c.resources })));
  const learner = spar.find((x) => x.svc === 'learner')!;
  for (const x of spar.filter((y) => y.svc !== 'learner')) {
    assert.ok(CPU(learner.r.requests.cpu) > CPU(x.r.requests.cpu) && CPU(learner.r.limits.cpu) > CPU(x.r.limits.cpu), `learner CPU ≤ ${x.svc}`);
    assert.ok(BYTES(learner.r.requests.memory) > BYTES(x.r.requests.memory) && BYTES(learner.r.limits.memory) > BYTES(x.r.limits.memory), `learner memory ≤ ${x.svc}`);
  }
});

test('base: one learner, a StatefulSet with its own volume for checkpoints and 60 s to stop', () => {
  const objs = renderBase();
  const l = find(objs, 'StatefulSet', 'learner')!;
  const spec = l.spec as Obj;
  assert.equal(spec.replicas, 1, 'exactly one learner replica (one lease holder per experiment)');
  assert.equal(find(objs, 'Deployment', 'learner'), undefined);
  assert.equal(spec.template.spec.terminationGracePeriodSeconds, 60);
  assert.equal(spec.template.spec.securityContext.fsGroup, 1000, 'the volume must be writable by uid 1000');
  const c = spec.template.spec.containers[0];
  const dataDir = c.env.find((e: Obj) => e.name === 'SPAR_DATA_DIR').value;
  const mount = c.volumeMounts.find((m: Obj) => m.mountPath === dataDir);
  assert.ok(mount, 'SPAR_DATA_DIR is a mounted volume');
  const claim = spec.volumeClaimTemplates.find((v: Obj) => v.metadata.name === mount.name);
  assert.ok(claim, 'the data volume is a volumeClaimTemplate (kept across restarts)');
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
  assert.equal(c.env.find((e: Obj) => e.name === 'SPAR_ADVERTISE_HOST').valueFrom.fieldRef.fieldPath, 'status.podIP');
  assert.equal((find(objs, 'Service', 'learner')!.spec as Obj).clusterIP, 'None', 'headless: learner-0.learner.spar.svc');
  // No ScaledObject may touch it.
  for (const so of objs.filter((o) => o.kind === 'ScaledObject')) assert.notEqual((so.spec as Obj).scaleTargetRef.name, 'learner');
});

test('base: Redis keeps an AOF on a volume, capped with noeviction', () => {
  const objs = renderBase();
  const r = find(objs, 'StatefulSet', 'redis')!;
  const spec = r.spec as Obj;
  assert.equal(spec.replicas, 1);
  const c = spec.template.spec.containers[0];
  assert.equal(parseImage(c.image).name, 'redis');
  assert.equal(parseImage(c.image).tag, '7-bookworm');
  const cmd = c.command.join(' ');
  for (const flag of [/--appendonly yes/, /--appendfsync everysec/, /--maxmemory \d+[kmg]b/, /--maxmemory-policy noeviction/, /--dir \/data/]) assert.match(cmd, flag);
  assert.ok(c.volumeMounts.some((m: Obj) => m.mountPath === '/data' && spec.volumeClaimTemplates.some((v: Obj) => v.metadata.name === m.name)));
  for (const p of pods(objs)) for (const ct of containers(p).filter(serviceOf)) {
    const env = environment(objs, ct, idOf(p.owner), []);
    assert.equal(env.REDIS_URL, 'redis://redis:6379', `${idOf(p.owner)} REDIS_URL`);
  }
});

test('base: NetworkPolicies admit exactly the flows spar has', () => {
  const objs = renderBase();
  const to = (c: string) => podOf(objs, c);
  const allowed: [Peer, string, number, string][] = [
    ...(['controller', 'proposer', 'solver', 'judge', 'learner'] as const).map((c): [Peer, string, number, string] => [from(objs, c), 'redis', 6379, `${c} → redis`]),
    [from(objs, 'proposer'), 'judge', 50052, 'proposer → judge gRPC'],
    [from(objs, 'proposer'), 'learner', 50051, 'proposer → learner gRPC'],
    [from(objs, 'solver'), 'learner', 50051, 'solver → learner gRPC'],
    [elsewhere('ingress-nginx'), 'controller', 8080, 'ingress → controller API'],
    [elsewhere('monitoring'), 'controller', 8080, 'Prometheus → controller /metrics and HTTP SD'],
    ...(['judge', 'solver', 'proposer', 'learner'] as const).map((c): [Peer, string, number, string] => [elsewhere('monitoring'), c, SERVICES[c].ports.ops!, `Prometheus → ${c} ops`]),
  ];
  for (const [src, dst, port, what] of allowed) assert.ok(admitted(objs, src, to(dst), port), `${what} must be admitted`);
  const denied: [Peer, string, number, string][] = [
    [elsewhere('default'), 'redis', 6379, 'another namespace → redis'],
    [elsewhere('monitoring'), 'redis', 6379, 'Prometheus → redis'],
    [elsewhere('default'), 'learner', 50051, 'another namespace → learner gRPC'],
    [elsewhere('default'), 'judge', 9465, 'another namespace → judge ops'],
    [from(objs, 'solver'), 'judge', 50052, 'solver → judge gRPC (no such call)'],
    [from(objs, 'controller'), 'learner', 50051, 'controller → learner gRPC (no such call)'],
    [from(objs, 'judge'), 'learner', 50051, 'judge → learner gRPC (no such call)'],
    [elsewhere('monitoring'), 'learner', 50051, 'Prometheus → learner gRPC'],
  ];
  for (const [src, dst, port, what] of denied) assert.ok(!admitted(objs, src, to(dst), port), `${what} must be refused`);
});

test('base: KEDA scales the solver on waiting tasks, the judge on waiting rollout groups, the proposer on running experiments', () => {
  const objs = renderBase();
  const q = (name: string) => ((find(objs, 'ScaledObject', name)!.spec as Obj).triggers[0].metadata.query as string);
  assert.match(q('solver'), /spar_queue_depth\{queue="tasks"\}/);
  assert.match(q('judge'), /spar_queue_depth\{queue="rollouts"\}/);
  assert.match(q('proposer'), /spar_experiments\{state="running"\}/);
  // Each experiment counted once however many controller replicas export the gauge.
  for (const n of ['solver', 'judge']) assert.match(q(n), /max by \(experiment\)/);
  // The queue names the controller reads are the ones the workers use (what the queries stand for).
  const keys = readFileSync(join(ROOT, 'packages/core/src/keys.ts'), 'utf8');
  assert.match(keys, /tasks: \(exp: string\) => `tasks\.\$\{exp\}`/);
  assert.match(keys, /rollouts: \(exp: string\) => `rollouts\.\$\{exp\}`/);
  assert.match(readFileSync(join(ROOT, 'services/controller/src/queue-monitor.ts'), 'utf8'), /depth\.set\(\{ experiment: r\.id, queue: label \}/);
});

test('overlay external-redis: no in-cluster Redis, REDIS_URL from the user\'s file, everything else intact', () => {
  const objs = renderOverlay('external-redis');
  assert.deepEqual(problemsOf(objs), []);
  for (const kind of ['StatefulSet', 'Service', 'NetworkPolicy']) assert.equal(objs.find((o) => o.kind === kind && /redis/.test(o.metadata.name)), undefined, `${kind} redis left`);
  const want = /^REDIS_URL=(.*)$/m.exec(readFileSync(join(K8S_DIR, 'overlays/external-redis/redis.env.example'), 'utf8'))![1];
  for (const p of pods(objs)) for (const c of containers(p)) assert.equal(environment(objs, c, idOf(p.owner), []).REDIS_URL, want);
  assert.equal(objs.length, renderBase().length - 3);
});

test('overlay no-keda: the base without ScaledObjects', () => {
  const objs = renderOverlay('no-keda');
  assert.deepEqual(problemsOf(objs), []);
  assert.equal(objs.filter((o) => o.kind === 'ScaledObject').length, 0);
  assert.deepEqual(objs, renderBase().filter((o) => o.kind !== 'ScaledObject'));
});

test('overlay tls: learner, judge, solver and proposer speak mutual TLS from the user\'s certificates; everything validates; no certificates, no render', () => {
  const overlay = join(userCopy(), 'overlays/tls');
  rmSync(join(overlay, 'certs'), { recursive: true, force: true }); // a checkout where someone made them already
  assert.throws(() => render(overlay), /certs\/ca\.pem not found/);
  spawnSync('sh', [join(ROOT, 'deploy/tls/make-certs.sh'), join(overlay, 'certs')], { encoding: 'utf8' });
  const objs = render(overlay);
  assert.deepEqual(problemsOf(objs), []);
  assert.equal(objs.length, renderBase().length + 2, 'the base plus the certificate Secret and the settings ConfigMap');
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('spar-grpc-tls-'))!;
  const files = decoded(secret)!;
  for (const f of ['ca.pem', 'spar.pem', 'spar.key']) assert.equal(files[f], readFileSync(join(overlay, 'certs', f), 'utf8'), `${f} in the Secret`);
  const tlsServices = ['learner', 'judge', 'solver', 'proposer'];
  const seen: string[] = [];
  for (const p of pods(objs)) {
    for (const c of containers(p)) {
      const svc = serviceOf(c);
      const env = environment(objs, c, idOf(p.owner), []);
      const tls = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('SPAR_GRPC_TLS_')));
      if (!svc || !tlsServices.includes(svc)) { assert.deepEqual(tls, {}, `${idOf(p.owner)} speaks no gRPC`); continue; }
      seen.push(svc);
      assert.deepEqual(tls, { SPAR_GRPC_TLS_CERT: '/tls/spar.pem', SPAR_GRPC_TLS_KEY: '/tls/spar.key', SPAR_GRPC_TLS_CA: '/tls/ca.pem', SPAR_GRPC_TLS_SERVERNAME: 'spar-grpc' }, svc);
      const mount = (c.volumeMounts as Obj[]).find((m) => m.mountPath === '/tls');
      assert.equal(mount?.readOnly, true, `${svc}: /tls mounted read-only`);
      const vol = (p.spec.volumes as Obj[]).find((v) => v.name === mount!.name)!;
      assert.deepEqual(vol.secret, { secretName: secret.metadata.name, defaultMode: 0o440 }, `${svc}: the certificate Secret, owner and group only`);
      assert.equal(p.spec.securityContext.fsGroup, 1000, `${svc}: the key's group is the service's`);
    }
  }
  assert.deepEqual(seen.sort(), [...tlsServices].sort());
  // Clients verify spar-grpc (pod IPs are not in any certificate): the certificate must name it.
  const san = spawnSync('openssl', ['x509', '-in', join(overlay, 'certs/spar.pem'), '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' }).stdout;
  assert.match(san, /DNS:spar-grpc/);
  assert.ok(!spawnSync('git', ['check-ignore', '-q', 'deploy/k8s/overlays/tls/certs/spar.key'], { cwd: ROOT }).status, 'certificates must be git-ignored');
});

test('the validator bites: a broken object is reported, each kind of mistake by its own check', () => {
  const base = renderBase();
  assert.deepEqual(problemsOf(base), []);
  const broken = (what: string, edit: (objs: K8sObject[]) => void, expect: RegExp) => {
    const objs = clone(base);
    edit(objs);
    const found = problemsOf(objs);
    assert.ok(found.some((p) => expect.test(p)), `${what}: expected a problem matching ${expect}, got ${JSON.stringify(found)}`);
  };
  const dep = (objs: K8sObject[], name: string) => (objs.find((o) => o.metadata.name === name && (o.kind === 'Deployment' || o.kind === 'StatefulSet'))!.spec as Obj);
  // Schema (kubernetes-models validate()).
  broken('string replicas', (o) => { dep(o, 'controller').replicas = '2'; }, /Deployment\/controller: .*replicas must be integer/);
  broken('missing selector', (o) => { delete dep(o, 'controller').selector; }, /Deployment\/controller: .*selector/);
  broken('string containerPort', (o) => { dep(o, 'judge').template.spec.containers[0].ports[0].containerPort = '50052'; }, /Deployment\/judge: .*containerPort must be integer/);
  broken('ScaledObject without triggers', (o) => { delete (o.find((x) => x.kind === 'ScaledObject')!.spec as Obj).triggers; }, /ScaledObject\/\w+: .*triggers/);
  broken('unknown kind', (o) => { o.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: NS } }); }, /no schema for v1\/Pod/);
  // Field names (the schemas let unknown fields through).
  broken('misspelt probe', (o) => { const c = dep(o, 'judge').template.spec.containers[0]; c.readynessProbe = c.readinessProbe; delete c.readinessProbe; }, /containers\/0\/readynessProbe: unknown field/);
  broken('misspelt nested field', (o) => { dep(o, 'learner').template.spec.securityContext.runAsNonroot = true; }, /securityContext\/runAsNonroot: unknown field/);
  // Invariants and cross-references.
  broken('container without image', (o) => { delete dep(o, 'solver').template.spec.containers[0].image; }, /solver\/solver: no image/);
  broken('learner replicas 2', (o) => { dep(o, 'learner').replicas = 2; }, /StatefulSet\/learner: replicas must be 1/);
  broken('Service selecting nothing', (o) => { (o.find((x) => x.kind === 'Service' && x.metadata.name === 'judge')!.spec as Obj).selector['app.kubernetes.io/component'] = 'judges'; }, /Service\/judge: selector matches 0/);
  broken('probe on a missing port', (o) => { dep(o, 'proposer').template.spec.containers[0].livenessProbe.httpGet.port = 'metrics'; }, /livenessProbe port metrics/);
  broken('unknown setting', (o) => { dep(o, 'proposer').template.spec.containers[0].env.push({ name: 'SPAR_JUDGE_ADRR', value: 'judge:50052' }); }, /SPAR_JUDGE_ADRR is not a setting of the proposer/);
  broken('out-of-range setting', (o) => { dep(o, 'judge').template.spec.containers[0].env.push({ name: 'SPAR_CONCURRENCY', value: '0' }); }, /judge would refuse its environment/);
  broken('missing Secret key', (o) => { dep(o, 'solver').template.spec.containers[0].env.find((e: Obj) => e.name === 'SPAR_GRPC_TOKEN').valueFrom.secretKeyRef.key = 'GRPC_TOKEN'; }, /has no key GRPC_TOKEN/);
  broken('env port ≠ container port', (o) => { dep(o, 'judge').template.spec.containers[0].env.find((e: Obj) => e.name === 'SPAR_OPS_PORT').value = '9000'; }, /SPAR_OPS_PORT=9000/);
  broken('NetworkPolicy selecting nothing', (o) => { ((o.find((x) => x.metadata.name === 'judge-grpc-from-proposer')!.spec as Obj).podSelector.matchLabels['app.kubernetes.io/component'] = 'jugde'); }, /judge-grpc-from-proposer: podSelector selects no pod/);
  broken('ScaledObject on an uncatalogued metric', (o) => { ((o.find((x) => x.kind === 'ScaledObject' && x.metadata.name === 'solver')!.spec as Obj).triggers[0].metadata.query = 'sum(spar_queue_lenght)'); }, /spar_queue_lenght is not in the metric catalog/);
  broken('KEDA-scaled Deployment with replicas', (o) => { dep(o, 'solver').replicas = 2; }, /Deployment\/solver: sets replicas/);
  // Security baseline.
  broken('writable root filesystem', (o) => { dep(o, 'judge').template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; }, /judge\/judge: readOnlyRootFilesystem/);
  broken('no limits', (o) => { delete dep(o, 'controller').template.spec.containers[0].resources.limits; }, /controller\/controller: resources/);
});

// ---- the renderer ---------------------------------------------------------------------------------

const scratch: string[] = [];
after(() => { for (const d of scratch) rmSync(d, { recursive: true, force: true }); });
/** A copy of deploy/k8s with the env files written from their examples, as a user would. */
function userCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spar-k8s-'));
  scratch.push(dir);
  cpSync(K8S_DIR, join(dir, 'k8s'), { recursive: true });
  for (const f of ['base/tokens.env', 'overlays/external-redis/redis.env']) cpSync(join(dir, 'k8s', `${f}.example`), join(dir, 'k8s', f));
  return join(dir, 'k8s');
}

test('renderer: secrets come only from files the user writes; without them rendering fails and says which', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spar-k8s-'));
  scratch.push(dir);
  cpSync(K8S_DIR, join(dir, 'k8s'), { recursive: true });
  rmSync(join(dir, 'k8s/base/tokens.env'), { force: true });
  assert.throws(() => render(join(dir, 'k8s/base')), /tokens\.env not found.*tokens\.env\.example/);
  assert.match(readFileSync(join(K8S_DIR, 'base/tokens.env.example'), 'utf8'), /PLACEHOLDER/);
  // With the user's file, its values are what the Secret holds, and pods refer to the hashed name.
  writeFileSync(join(dir, 'k8s/base/tokens.env'), `SPAR_API_TOKEN=${'a'.repeat(64)}\nSPAR_GRPC_TOKEN=${'b'.repeat(64)}\n`);
  const objs = render(join(dir, 'k8s/base'));
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('spar-tokens-'))!;
  assert.match(secret.metadata.name, /^spar-tokens-[a-z0-9]{10}$/);
  assert.equal(decoded(secret)!.SPAR_GRPC_TOKEN, 'b'.repeat(64));
  const ref = (podSpecOf(find(objs, 'StatefulSet', 'learner')!) as Obj).containers[0].env.find((e: Obj) => e.name === 'SPAR_GRPC_TOKEN').valueFrom.secretKeyRef.name;
  assert.equal(ref, secret.metadata.name);
  // New token → new name → pods roll.
  writeFileSync(join(dir, 'k8s/base/tokens.env'), `SPAR_API_TOKEN=${'a'.repeat(64)}\nSPAR_GRPC_TOKEN=${'c'.repeat(64)}\n`);
  assert.notEqual(render(join(dir, 'k8s/base')).find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('spar-tokens-'))!.metadata.name, secret.metadata.name);
  assert.ok(!spawnSync('git', ['check-ignore', '-q', 'deploy/k8s/base/tokens.env'], { cwd: ROOT }).status, 'tokens.env must be git-ignored');
  assert.ok(!spawnSync('git', ['check-ignore', '-q', 'deploy/k8s/overlays/external-redis/redis.env'], { cwd: ROOT }).status, 'redis.env must be git-ignored');
});

/** An overlay using every renderer feature the base does not: retagging, JSON 6902, a map patch, generator merge, a delete. */
function userOverlay(k8s: string): string {
  const dir = join(k8s, 'overlays', 'mine');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kustomization.yaml'), YAML.stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
    resources: ['../../base'],
    images: [{ name: 'spar', newName: 'registry.example/spar', newTag: '1.2.3' }],
    configMapGenerator: [{ name: 'spar-config', behavior: 'merge', literals: ['SPAR_LOG_LEVEL=debug'] }],
    patches: [
      { target: { kind: 'ScaledObject' }, patch: '- op: replace\n  path: /spec/triggers/0/metadata/serverAddress\n  value: http://prom.obs.svc:9090\n' },
      { path: 'learner-resources.yaml' },
      { target: { kind: 'NetworkPolicy', name: 'controller-http' }, patch: '$patch: delete\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\n' },
    ],
  }));
  writeFileSync(join(dir, 'learner-resources.yaml'), 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: learner\nspec:\n  template:\n    metadata:\n      annotations:\n        example.com/gpu: "no"\n');
  return dir;
}

test('renderer: images, JSON 6902 and map patches, generator merge and deletes, as a user overlay would use them', () => {
  const dir = userOverlay(userCopy());
  const objs = render(dir);
  assert.deepEqual(schemaProblems(objs), []);
  for (const p of pods(objs)) for (const c of containers(p).filter(serviceOf)) assert.equal(c.image, 'registry.example/spar:1.2.3');
  assert.equal(podOf(objs, 'redis').spec.containers[0].image, 'redis:7-bookworm');
  for (const so of objs.filter((o) => o.kind === 'ScaledObject')) assert.equal((so.spec as Obj).triggers[0].metadata.serverAddress, 'http://prom.obs.svc:9090');
  const learnerTemplate = (find(objs, 'StatefulSet', 'learner')!.spec as Obj).template;
  assert.equal(learnerTemplate.metadata.annotations['example.com/gpu'], 'no');
  assert.equal(learnerTemplate.metadata.annotations['prometheus.io/port'], '9468', 'a map patch merges, it does not replace');
  assert.equal(find(objs, 'NetworkPolicy', 'controller-http'), undefined);
  const cm = objs.find((o) => o.kind === 'ConfigMap')!;
  assert.equal((cm.data as Obj).SPAR_LOG_LEVEL, 'debug');
  assert.equal(podOf(objs, 'judge').spec.containers[0].envFrom[0].configMapRef.name, cm.metadata.name);
});

test('renderer: what it does not implement is an error, never ignored', () => {
  const k8s = userCopy();
  const write = (body: object) => {
    const dir = mkdtempSync(join(k8s, 'overlays', 'x-'));
    writeFileSync(join(dir, 'kustomization.yaml'), YAML.stringify({ resources: ['../../base'], ...body }));
    return dir;
  };
  assert.throws(() => render(write({ commonLabels: { a: 'b' } })), /field "commonLabels" is not supported/);
  assert.throws(() => render(write({ labels: [{ pairs: { a: 'b' }, includeSelectors: true }] })), /includeSelectors: true is not supported/);
  assert.throws(() => render(write({ patches: [{ path: 'nope.yaml', options: {} }] })), /patches\.options is not supported/);
  assert.throws(() => render(write({ patches: [{ patch: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: judge\nspec:\n  template:\n    spec:\n      containers: []\n' }] })), /lists in strategic-merge patches are not supported/);
  assert.throws(() => render(write({ patches: [{ patch: 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nobody\nspec: {}\n' }] })), /matches no object/);
  assert.throws(() => render(write({ secretGenerator: [{ name: 'spar-tokens', literals: ['A=b'] }] })), /already exists/);
});

/** A real kustomize, if this machine has one: `kustomize`, or `kubectl kustomize`. */
function realKustomize(): ((dir: string) => string) | undefined {
  const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
  if (has('kustomize', ['version'])) return (dir) => spawnSync('kustomize', ['build', dir], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
  if (has('kubectl', ['version', '--client'])) return (dir) => spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
  return undefined;
}

test('renderer: the same objects, in the same order, as kustomize itself (when kustomize or kubectl is installed)', (t) => {
  const kustomize = realKustomize();
  if (!kustomize) { t.skip('no kustomize or kubectl on PATH (CI has neither; checked by hand with kustomize 4.5.4)'); return; }
  const k8s = userCopy();
  userOverlay(k8s);
  for (const d of ['base', 'overlays/external-redis', 'overlays/no-keda', 'overlays/mine']) {
    const real: K8sObject[] = YAML.parseAllDocuments(kustomize(join(k8s, d))).map((x) => x.toJS() as K8sObject).filter(Boolean);
    const mine = JSON.parse(JSON.stringify(render(join(k8s, d)))) as K8sObject[];
    assert.deepEqual(mine.map(idOf), real.map(idOf), `${d}: objects or order differ`);
    for (let i = 0; i < mine.length; i++) assert.ok(isDeepStrictEqual(mine[i], real[i]), `${d}: ${idOf(mine[i]!)} differs`);
  }
});

test('deploy/k8s/prometheus.yml is a valid Prometheus config scraping the controller\'s HTTP SD (promtool, when installed)', (t) => {
  const text = readFileSync(join(K8S_DIR, 'prometheus.yml'), 'utf8');
  const url = (YAML.parse(text) as Obj).scrape_configs[0].http_sd_configs[0].url as string;
  assert.equal(url, `http://controller.${NS}.svc:8080/v1/sd/prometheus`);
  const r = spawnSync('promtool', ['check', 'config', join(K8S_DIR, 'prometheus.yml')], { encoding: 'utf8' });
  if (r.error) { t.skip('promtool not installed'); return; }
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
});

test('npm run k8s:render prints the base (placeholder tokens flagged on stderr) and overlays by name', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/k8s-render.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  const docs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
  assert.deepEqual(docs.map(idOf), renderBase().map(idOf));
  if (!existsSync(join(K8S_DIR, 'base/tokens.env'))) assert.match(r.stderr, /PLACEHOLDER/);
  const o = run('no-keda');
  assert.equal(o.status, 0, o.stderr);
  assert.ok(!/kind: ScaledObject/.test(o.stdout));
  const bad = run('/nonexistent');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no kustomization\.yaml/);
});
