/**
 * A small, offline renderer for the subset of kustomize that deploy/k8s uses, so the manifests can
 * be rendered and validated without kubectl (tests/k8s.test.ts, scripts/k8s-render.ts).
 *
 * Supported kustomization fields (anything else is an error, never silently ignored):
 * - `resources`: YAML files (one or more documents) and directories holding a kustomization;
 * - `namespace`: set on every namespaced object;
 * - `labels`: `pairs` added to every object's metadata.labels (`includeSelectors: false` only);
 * - `images`: `name` → `newName` / `newTag` / `digest` in every pod template's containers;
 * - `configMapGenerator` / `secretGenerator`: `literals`, `envs` (KEY=VALUE files), `files`
 *   (`path` or `key=path`: the file's text under its name or the key), `behavior`
 *   (create, replace, merge), `type` (secrets); names get kustomize's content-hash suffix and every
 *   reference from a pod template (env, envFrom, volumes) is renamed to match;
 * - `patches`: from `path` or inline `patch`, optionally with a `target` (kind, name, namespace,
 *   group, version; exact matches, no regular expressions): a strategic-merge patch made of maps
 *   only (lists would need kustomize's per-field merge keys, so they are refused), `$patch: delete`,
 *   or a JSON 6902 list of add / replace / remove operations.
 *
 * Not implemented: components, bases/crds/replicas/replacements/vars fields, commonLabels,
 * commonAnnotations, name prefixes/suffixes, Helm charts, remote resources, binary generator files,
 * labels with includeSelectors/includeTemplates, target selectors by label or regex.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface RenderOptions {
  /**
   * An `envs:` file that does not exist is an error, as with kustomize. With this set, `<file>.example`
   * is used instead when it exists, and `onExample` is told (for previews; never for deploying).
   */
  readonly useExampleEnvFiles?: boolean;
  readonly onExample?: (path: string) => void;
}

interface Item {
  obj: K8sObject;
  /** Set on generated ConfigMaps/Secrets: the name before the hash suffix. */
  generated?: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'configMapGenerator', 'secretGenerator', 'patches']);

/** Kinds that are not namespaced, among those a kustomization here could hold. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass',
  'PriorityClass', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'APIService', 'ClusterTriggerAuthentication',
]);

/** kustomize's "legacy" output order (api/resid/gvk.go): these kinds first, in this order, then the rest by kind. */
const ORDER_FIRST = [
  'Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount', 'PodSecurityPolicy', 'Role',
  'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'Endpoints', 'Service', 'LimitRange',
  'PriorityClass', 'PersistentVolume', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'CronJob', 'PodDisruptionBudget',
];
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (where: string, msg: string): never => { throw new Error(`${where}: ${msg}`); };
const clone = <T>(v: T): T => structuredClone(v);

/** Render the kustomization in `dir` to a list of objects, in kustomize's legacy order. */
export function render(dir: string, opts: RenderOptions = {}): K8sObject[] {
  const items = build(resolve(dir), opts, []);
  return finalize(items);
}

/** Multi-document YAML, as `kubectl kustomize` prints it. */
export function toYaml(objs: readonly K8sObject[]): string {
  return objs.map((o) => YAML.stringify(o, { lineWidth: 0 })).join('---\n');
}

function kustomizationFile(dir: string): string {
  for (const f of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return fail(dir, 'no kustomization.yaml');
}

function build(dir: string, opts: RenderOptions, stack: string[]): Item[] {
  if (stack.includes(dir)) fail(dir, `cycle: ${[...stack, dir].join(' → ')}`);
  const file = kustomizationFile(dir);
  const k = YAML.parse(readFileSync(file, 'utf8')) as JsonObject | null;
  if (!isObject(k)) return fail(file, 'not a mapping');
  for (const key of Object.keys(k)) {
    if (!FIELDS.has(key)) fail(file, `field "${key}" is not supported by scripts/kustomize-lite.ts (it implements only: ${[...FIELDS].join(', ')})`);
  }
  if (k.kind !== undefined && k.kind !== 'Kustomization') fail(file, `kind must be Kustomization, not ${String(k.kind)}`);
  let items: Item[] = [];

  for (const r of list(k.resources, file, 'resources')) {
    if (typeof r !== 'string') fail(file, 'resources entries must be paths');
    if (/^[a-z]+:\/\//i.test(r as string) || (r as string).includes('?ref=')) fail(file, `remote resource ${String(r)} is not supported`);
    const p = resolve(dir, r as string);
    if (!existsSync(p)) fail(file, `resource ${String(r)} not found`);
    if (statSync(p).isDirectory()) items.push(...build(p, opts, [...stack, dir]));
    else items.push(...readObjects(p).map((obj) => ({ obj })));
  }

  for (const [field, kind] of [['configMapGenerator', 'ConfigMap'], ['secretGenerator', 'Secret']] as const) {
    for (const g of list(k[field], file, field)) items = generate(items, g, kind, dir, file, opts);
  }

  for (const p of list(k.patches, file, 'patches')) items = applyPatch(items, p, dir, file);

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string' || !k.namespace) fail(file, 'namespace must be a non-empty string');
    for (const it of items) if (!CLUSTER_SCOPED.has(it.obj.kind)) it.obj.metadata.namespace = k.namespace as string;
  }

  for (const l of list(k.labels, file, 'labels')) {
    if (!isObject(l) || !isObject(l.pairs)) return fail(file, 'labels entries need pairs');
    for (const key of Object.keys(l)) if (!['pairs', 'includeSelectors'].includes(key)) fail(file, `labels.${key} is not supported`);
    if (l.includeSelectors === true) fail(file, 'labels.includeSelectors: true is not supported (selectors are written by hand)');
    for (const it of items) it.obj.metadata.labels = { ...(it.obj.metadata.labels ?? {}), ...(l.pairs as Record<string, string>) };
  }

  for (const img of list(k.images, file, 'images')) {
    if (!isObject(img) || typeof img.name !== 'string') return fail(file, 'images entries need a name');
    for (const key of Object.keys(img)) if (!['name', 'newName', 'newTag', 'digest'].includes(key)) fail(file, `images.${key} is not supported`);
    for (const it of items) for (const c of containersOf(it.obj)) c.image = retag(String(c.image ?? ''), img);
  }
  return items;
}

function list(v: Json | undefined, file: string, field: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(file, `${field} must be a list`);
  return v;
}

function readObjects(path: string): K8sObject[] {
  const docs = YAML.parseAllDocuments(readFileSync(path, 'utf8'));
  const out: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length) fail(path, d.errors.map((e) => e.message).join('; '));
    const o = d.toJS() as unknown;
    if (o === null || o === undefined) continue;
    if (!isObject(o) || typeof o.kind !== 'string' || typeof o.apiVersion !== 'string' || !isObject(o.metadata) || typeof o.metadata.name !== 'string') {
      fail(path, 'every document must have apiVersion, kind and metadata.name');
    }
    out.push(o as unknown as K8sObject);
  }
  return out;
}

// ---- generators ---------------------------------------------------------------------------------

function parseEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) fail(`${path}:${i + 1}`, 'expected KEY=VALUE (taking a value from the environment is not supported)');
    const key = line.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) fail(`${path}:${i + 1}`, `invalid key ${key}`);
    out[key] = line.slice(eq + 1);
  });
  return out;
}

function generate(items: Item[], g: Json, kind: 'ConfigMap' | 'Secret', dir: string, file: string, opts: RenderOptions): Item[] {
  if (!isObject(g) || typeof g.name !== 'string') return fail(file, `${kind} generator needs a name`);
  for (const key of Object.keys(g)) {
    if (!['name', 'literals', 'envs', 'files', 'behavior', 'type'].includes(key) || (key === 'type' && kind !== 'Secret')) fail(file, `generator field ${key} is not supported`);
  }
  const data: Record<string, string> = {};
  for (const lit of list(g.literals, file, 'literals')) {
    const s = String(lit);
    const eq = s.indexOf('=');
    if (eq <= 0) fail(file, `literal ${s} is not KEY=VALUE`);
    data[s.slice(0, eq)] = s.slice(eq + 1);
  }
  for (const e of list(g.envs, file, 'envs')) {
    let p = resolve(dir, String(e));
    if (!existsSync(p)) {
      if (opts.useExampleEnvFiles && existsSync(`${p}.example`)) {
        opts.onExample?.(p);
        p = `${p}.example`;
      } else {
        fail(file, `env file ${String(e)} not found (${p}); create it from ${String(e)}.example`);
      }
    }
    Object.assign(data, parseEnvFile(p));
  }
  for (const f of list(g.files, file, 'files')) {
    const s = String(f);
    const eq = s.indexOf('=');
    const rel = eq > 0 ? s.slice(eq + 1) : s;
    const key = eq > 0 ? s.slice(0, eq) : basename(rel);
    const p = resolve(dir, rel);
    if (!existsSync(p)) fail(file, `file ${rel} not found (${p}); see the comments in ${file}`);
    const bytes = readFileSync(p);
    if (bytes.includes(0)) fail(file, `file ${rel} is binary (only text files are supported)`);
    if (!/^[A-Za-z0-9._-]+$/.test(key)) fail(file, `invalid key ${key} for ${rel}`);
    data[key] = bytes.toString('utf8');
  }
  const behavior = (g.behavior ?? 'create') as string;
  const existing = items.find((it) => it.generated && it.obj.kind === kind && it.obj.metadata.name === g.name);
  const encode = (d: Record<string, string>) => (kind === 'Secret' ? Object.fromEntries(Object.entries(d).map(([k, v]) => [k, base64Lines(v)])) : d);
  if (behavior === 'create') {
    if (existing) fail(file, `${kind} ${g.name} already exists (use behavior: replace or merge)`);
    const obj: K8sObject = { apiVersion: 'v1', kind, metadata: { name: g.name }, ...(kind === 'Secret' ? { type: (g.type as string) ?? 'Opaque' } : {}), data: encode(data) };
    return [...items, { obj, generated: true }];
  }
  if (!existing) return fail(file, `${kind} ${g.name} with behavior ${behavior}: no such generated ${kind} in the resources`);
  if (behavior === 'replace') existing.obj.data = encode(data);
  else if (behavior === 'merge') existing.obj.data = { ...(existing.obj.data as Record<string, string>), ...encode(data) };
  else fail(file, `unknown behavior ${behavior}`);
  return items;
}

/** Base64 as kustomize writes Secret data: values longer than 70 characters in 70-character lines, newline-terminated. */
function base64Lines(v: string): string {
  const b = Buffer.from(v).toString('base64');
  return b.length <= 70 ? b : `${b.match(/.{1,70}/g)!.join('\n')}\n`;
}

/**
 * kustomize's name suffix (api/hasher): sha256 of the key-sorted JSON of data, kind, name and (for
 * a Secret) type; the first 10 hex digits with 0, 1, 3, a, e mapped to g, h, k, m, t. kustomize
 * looks the name up as the single field "metadata/name", finds nothing and hashes an empty name;
 * so does this (the suffixes then equal kustomize 4.5.4's, which was checked once by hand).
 */
function hashSuffix(o: K8sObject): string {
  const m: Record<string, unknown> = { data: sortKeys((o.data ?? {}) as Record<string, string>), kind: o.kind, name: '' };
  if (o.kind === 'Secret') m.type = o.type;
  const json = JSON.stringify(sortKeys(m)).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  const hex = createHash('sha256').update(json).digest('hex').slice(0, 10);
  return hex.replace(/[013ae]/g, (c) => ({ 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' })[c as '0']);
}

function sortKeys<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]])) as T;
}

// ---- patches ------------------------------------------------------------------------------------

interface Target { kind?: string; name?: string; namespace?: string; group?: string; version?: string }

function matches(o: K8sObject, t: Target): boolean {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') as [string, string] : ['', o.apiVersion];
  return (t.kind === undefined || t.kind === o.kind) && (t.name === undefined || t.name === o.metadata.name)
    && (t.namespace === undefined || t.namespace === (o.metadata.namespace ?? ''))
    && (t.group === undefined || t.group === group) && (t.version === undefined || t.version === version);
}

function applyPatch(items: Item[], p: Json, dir: string, file: string): Item[] {
  if (!isObject(p)) return fail(file, 'patches entries must be mappings');
  for (const key of Object.keys(p)) if (!['path', 'patch', 'target'].includes(key)) fail(file, `patches.${key} is not supported`);
  if ((p.path === undefined) === (p.patch === undefined)) fail(file, 'a patch needs exactly one of path and patch');
  const where = p.path !== undefined ? resolve(dir, String(p.path)) : `${file} (inline patch)`;
  const text = p.path !== undefined ? readFileSync(where, 'utf8') : String(p.patch);
  const body = YAML.parse(text) as Json;
  let target: Target | undefined;
  if (p.target !== undefined) {
    if (!isObject(p.target)) return fail(file, 'patch target must be a mapping');
    for (const key of Object.keys(p.target)) if (!['kind', 'name', 'namespace', 'group', 'version'].includes(key)) fail(file, `patch target field ${key} is not supported`);
    target = p.target as Target;
  }
  if (Array.isArray(body)) {
    if (!target) fail(where, 'a JSON 6902 patch needs a target');
    const hit = items.filter((it) => matches(it.obj, target!));
    if (!hit.length) fail(where, `patch target ${JSON.stringify(target)} matches no object`);
    for (const it of hit) it.obj = json6902(it.obj, body, where);
    return items;
  }
  if (!isObject(body) || typeof body.kind !== 'string' || !isObject(body.metadata)) return fail(where, 'a strategic-merge patch needs kind and metadata');
  const sel: Target = target ?? { kind: body.kind, name: String(body.metadata.name), ...(body.metadata.namespace ? { namespace: String(body.metadata.namespace) } : {}) };
  const hit = items.filter((it) => matches(it.obj, sel));
  if (!hit.length) fail(where, `patch ${JSON.stringify(sel)} matches no object`);
  if (body.$patch === 'delete') return items.filter((it) => !hit.includes(it));
  if (body.$patch !== undefined) fail(where, `$patch: ${String(body.$patch)} is not supported`);
  const { apiVersion: _a, kind: _k, metadata, ...rest } = body;
  const { name: _n, namespace: _ns, ...meta } = metadata as JsonObject;
  for (const it of hit) it.obj = mergeMaps(it.obj as unknown as JsonObject, { ...rest, metadata: meta }, where, '') as unknown as K8sObject;
  return items;
}

function mergeMaps(into: JsonObject, patch: JsonObject, where: string, path: string): JsonObject {
  const out: JsonObject = clone(into);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) fail(where, `${path}/${k}: strategic-merge directives other than a top-level $patch: delete are not supported`);
    if (v === null) delete out[k];
    else if (Array.isArray(v)) fail(where, `${path}/${k}: lists in strategic-merge patches are not supported (use a JSON 6902 patch with a target)`);
    else if (isObject(v) && isObject(out[k])) out[k] = mergeMaps(out[k] as JsonObject, v, where, `${path}/${k}`);
    else out[k] = clone(v);
  }
  return out;
}

function json6902(obj: K8sObject, ops: Json[], where: string): K8sObject {
  const doc = clone(obj) as unknown as JsonObject;
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string' || !op.path.startsWith('/')) {
      return fail(where, 'each operation needs op and a path starting with /');
    }
    if (!['add', 'replace', 'remove'].includes(op.op)) fail(where, `op ${op.op} is not supported (add, replace, remove)`);
    if (op.op !== 'remove' && op.value === undefined) fail(where, `${op.op} ${op.path}: value missing`);
    const parts = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const key = parts.pop()!;
    let parent: Json = doc;
    for (const s of parts) {
      const next: Json | undefined = Array.isArray(parent) ? parent[Number(s)] : isObject(parent) ? parent[s] : undefined;
      if (next === undefined) fail(where, `${op.op} ${op.path}: ${s} does not exist`);
      parent = next as Json;
    }
    if (Array.isArray(parent)) {
      const i = key === '-' && op.op === 'add' ? parent.length : Number(key);
      const limit = op.op === 'add' ? parent.length : parent.length - 1;
      if (!Number.isInteger(i) || i < 0 || i > limit) fail(where, `${op.op} ${op.path}: index out of range`);
      if (op.op === 'add') parent.splice(i, 0, clone(op.value as Json));
      else if (op.op === 'replace') parent[i] = clone(op.value as Json);
      else parent.splice(i, 1);
    } else if (isObject(parent)) {
      if (op.op !== 'add' && !(key in parent)) fail(where, `${op.op} ${op.path}: nothing there`);
      if (op.op === 'remove') delete parent[key];
      else parent[key] = clone(op.value as Json);
    } else {
      fail(where, `${op.op} ${op.path}: parent is not a map or list`);
    }
  }
  return doc as unknown as K8sObject;
}

// ---- pod templates ------------------------------------------------------------------------------

/** The pod spec of a workload (or of a Pod), if it has one. */
export function podSpecOf(o: K8sObject): JsonObject | undefined {
  const spec = o.spec as JsonObject | undefined;
  if (!isObject(spec)) return undefined;
  if (o.kind === 'Pod') return spec;
  if (o.kind === 'CronJob') {
    const jt = spec.jobTemplate as JsonObject | undefined;
    return isObject(jt) && isObject(jt.spec) && isObject(jt.spec.template) && isObject(jt.spec.template.spec) ? jt.spec.template.spec : undefined;
  }
  const t = spec.template;
  return isObject(t) && isObject(t.spec) ? t.spec : undefined;
}

function containersOf(o: K8sObject): JsonObject[] {
  const ps = podSpecOf(o);
  if (!ps) return [];
  return [...((ps.initContainers ?? []) as JsonObject[]), ...((ps.containers ?? []) as JsonObject[])];
}

/** Split an image reference into name, tag and digest ("reg:5000/a/b:tag@sha256:…"). */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), ...(digest ? { digest } : {}) };
  return { name: rest, ...(digest ? { digest } : {}) };
}

function retag(ref: string, img: JsonObject): string {
  const cur = parseImage(ref);
  if (cur.name !== img.name) return ref;
  const name = typeof img.newName === 'string' ? img.newName : cur.name;
  if (typeof img.digest === 'string') return `${name}@${img.digest}`;
  if (typeof img.newTag === 'string') return `${name}:${img.newTag}`;
  return `${name}${cur.tag ? `:${cur.tag}` : ''}${cur.digest ? `@${cur.digest}` : ''}`;
}

// ---- final pass: hash suffixes, references, order -----------------------------------------------

function finalize(items: Item[]): K8sObject[] {
  const renamed = new Map<string, string>(); // "<kind>/<namespace>/<name>" → new name
  for (const it of items) {
    if (!it.generated) continue;
    const old = it.obj.metadata.name;
    it.obj.metadata.name = `${old}-${hashSuffix(it.obj)}`;
    renamed.set(`${it.obj.kind}/${it.obj.metadata.namespace ?? ''}/${old}`, it.obj.metadata.name);
  }
  for (const it of items) {
    const ps = podSpecOf(it.obj);
    if (!ps) continue;
    const ns = it.obj.metadata.namespace ?? '';
    const ref = (kind: 'ConfigMap' | 'Secret', holder: JsonObject | undefined, field: string) => {
      if (!isObject(holder) || typeof holder[field] !== 'string') return;
      const n = renamed.get(`${kind}/${ns}/${holder[field] as string}`);
      if (n) holder[field] = n;
    };
    for (const c of containersOf(it.obj)) {
      for (const e of (c.env ?? []) as JsonObject[]) {
        const vf = e.valueFrom as JsonObject | undefined;
        if (!isObject(vf)) continue;
        ref('ConfigMap', vf.configMapKeyRef as JsonObject, 'name');
        ref('Secret', vf.secretKeyRef as JsonObject, 'name');
      }
      for (const e of (c.envFrom ?? []) as JsonObject[]) {
        ref('ConfigMap', e.configMapRef as JsonObject, 'name');
        ref('Secret', e.secretRef as JsonObject, 'name');
      }
    }
    for (const v of (ps.volumes ?? []) as JsonObject[]) {
      ref('ConfigMap', v.configMap as JsonObject, 'name');
      ref('Secret', v.secret as JsonObject, 'secretName');
      const proj = v.projected as JsonObject | undefined;
      for (const s of (isObject(proj) ? (proj.sources ?? []) : []) as JsonObject[]) {
        ref('ConfigMap', s.configMap as JsonObject, 'name');
        ref('Secret', s.secret as JsonObject, 'name');
      }
    }
  }
  const rank = (k: string) => {
    const f = ORDER_FIRST.indexOf(k);
    if (f >= 0) return f;
    const l = ORDER_LAST.indexOf(k);
    return l >= 0 ? ORDER_FIRST.length + 1 + l : ORDER_FIRST.length;
  };
  const objs = items.map((it) => it.obj);
  const seen = new Set<string>();
  for (const o of objs) {
    const id = `${o.apiVersion.split('/')[0]}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(id)) fail('render', `two objects with the same id ${id}`);
    seen.add(id);
  }
  // Within a rank kustomize compares "group_version_kind", then namespace and name.
  const gvk = (o: K8sObject) => (o.apiVersion.includes('/') ? o.apiVersion.replace('/', '_') : `~G_${o.apiVersion}`) + `_${o.kind}`;
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return objs.sort((a, b) => rank(a.kind) - rank(b.kind) || cmp(gvk(a), gvk(b))
    || cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name));
}

/** Where the kustomizations live, relative to the repository root. */
export const K8S_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'k8s');
