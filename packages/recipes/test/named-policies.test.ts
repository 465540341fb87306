import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment, ValidationError } from '@spar/core';
import { builtinRecipes } from '../src/index.ts';

const registry = builtinRecipes();
const rzero = (extra: object) => ({ name: 't', recipe: 'r-zero', ...extra });
const two = { policies: { challenger: {}, solver: {} }, roles: { proposer: 'challenger', solver: 'solver' } };

/** The issues of a refused config, as "path: message" lines. */
function issues(input: object): string[] {
  try {
    parseExperiment(input, registry);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('accepted');
}

test('named policies: a challenger and a solver for r-zero; frozen defaults to false; the parameter limit counts both', () => {
  const c = parseExperiment(rzero(two), registry);
  assert.deepEqual(c.policies, { challenger: { frozen: false }, solver: { frozen: false } });
  assert.deepEqual(c.roles, { proposer: 'challenger', solver: 'solver' });
  const one = parseExperiment(rzero({}), registry);
  assert.equal(registry.modelParams(c), 2 * registry.modelParams(one));
  // Without the sections: one unnamed policy, as before.
  assert.equal(one.policies, undefined);
  assert.equal(one.roles, undefined);
});

test('named policies: every inconsistency refused with its path', () => {
  assert.deepEqual(issues(rzero({ roles: two.roles })), ['/roles: needs a policies section naming the policies it maps roles to']);
  assert.match(issues(rzero({ policies: two.policies })).join('\n'), /^\/policies: needs a roles section/);
  assert.deepEqual(issues(rzero({ ...two, roles: { proposer: 'challenger', solver: 'solvr' } })), [
    "/roles/solver: names policy 'solvr', which policies does not declare (declared: challenger, solver)",
    '/policies/solver: plays no role (roles maps none to it)',
  ]);
  assert.deepEqual(issues(rzero({ policies: { a: { frozen: true }, b: { frozen: true } }, roles: { proposer: 'a', solver: 'b' } })), ['/policies: every policy is frozen: nothing would be trained']);
  assert.deepEqual(issues(rzero({ policies: { s: {} }, roles: { solver: 's' } })), ['/roles/proposer: this recipe proposes with a policy: say which one']);
  const games = { name: 't', recipe: 'spiral-games', options: { games: ['kuhn'] } };
  assert.deepEqual(issues({ ...games, ...two }), ['/roles/proposer: this recipe proposes without a policy: only solver takes one']);
  assert.match(issues({ ...games, policies: { solver: {} }, roles: { solver: 'solver' }, league: {} }).join('\n'), /\/league: a league trains the experiment's one policy; with named policies it is not available yet/);
  assert.match(issues(rzero({ policies: { Solver: {} }, roles: { proposer: 'Solver', solver: 'Solver' } })).join('\n'), /\/policies/);
  assert.match(issues(rzero({ ...two, policies: { challenger: {}, solver: { frozen: 'yes' } } })).join('\n'), /\/policies\/solver\/frozen/);
});
