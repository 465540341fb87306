import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExperiment, phaseAt, ValidationError } from '@spar/core';
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

/** R-Zero's rounds: a challenger phase, then a solver phase, labelled by a frozen copy of the solver. */
const rounds = {
  policies: { challenger: {}, solver: {}, labeler: { frozen: true, copies: 'solver' } },
  roles: { proposer: 'challenger', solver: 'solver', labeler: 'labeler' },
  rounds: { phases: [{ train: 'challenger', steps: 3 }, { train: 'solver', steps: 2 }] },
};

test('rounds: R-Zero\'s challenger and solver phases with a labeler that copies the solver; phaseAt walks them', () => {
  const c = parseExperiment(rzero(rounds), registry);
  assert.deepEqual(c.policies!.labeler, { frozen: true, copies: 'solver' });
  assert.equal(c.roles!.labeler, 'labeler');
  const at = (s: number) => { const p = phaseAt(c.rounds!, s); return `${p.round}:${p.train}:${p.stepInPhase}${p.roundStart ? '!' : ''}`; };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 9, 10].map(at), [
    '0:challenger:0!', '0:challenger:1', '0:challenger:2', '0:solver:0', '0:solver:1', '1:challenger:0!', '1:challenger:1', '1:solver:1', '2:challenger:0!',
  ]);
  // A labeler may also be a plain frozen policy (labels from the warm start forever), without rounds.
  parseExperiment(rzero({ ...rounds, policies: { ...rounds.policies, labeler: { frozen: true } }, rounds: undefined }), registry);
});

test('rounds: every inconsistency refused with its path', () => {
  const with_ = (patch: object) => rzero({ ...rounds, ...patch });
  assert.deepEqual(issues(rzero({ rounds: rounds.rounds })), ['/rounds: needs named policies (policies and roles) to alternate between']);
  assert.deepEqual(issues(with_({ rounds: { phases: [{ train: 'challenger', steps: 3 }] } })), ["/rounds/phases: policy 'solver' is not frozen but no phase trains it"]);
  assert.deepEqual(issues(with_({ rounds: { phases: [{ train: 'labeler', steps: 3 }, { train: 'challenger', steps: 1 }, { train: 'solver', steps: 1 }] } })), ["/rounds/phases/0/train: 'labeler' is frozen"]);
  assert.deepEqual(issues(with_({ rounds: { phases: [{ train: 'critic', steps: 3 }, { train: 'challenger', steps: 1 }, { train: 'solver', steps: 1 }] } })), ["/rounds/phases/0/train: names policy 'critic', which policies does not declare"]);
  assert.match(issues(with_({ rounds: { phases: [{ train: 'solver', steps: 0 }] } })).join('\n'), /\/rounds\/phases\/0\/steps/);
  assert.deepEqual(issues(with_({ policies: { ...rounds.policies, labeler: { copies: 'solver' } } })), [
    '/policies/labeler/frozen: the labeler must be frozen: its answers are never trained',
    '/policies/labeler/copies: only a frozen policy copies another (a trained one has weights of its own)',
    "/rounds/phases: policy 'labeler' is not frozen but no phase trains it",
  ]);
  assert.deepEqual(issues(with_({ policies: { ...rounds.policies, labeler: { frozen: true, copies: 'nobody' } } })), ["/policies/labeler/copies: names policy 'nobody', which policies does not declare"]);
  assert.deepEqual(issues(with_({ rounds: undefined })), ['/policies/labeler/copies: copies are taken at round starts: needs a rounds section']);
  assert.deepEqual(issues(with_({ roles: { ...rounds.roles, labeler: 'solver' }, policies: { challenger: {}, solver: {} } })), ["/roles/labeler: must be a policy of its own (a frozen one, or one that copies the solver's each round)"]);
  // Only a recipe that labels with a policy takes a labeler.
  const azr = { name: 't', recipe: 'absolute-zero', ...rounds };
  assert.ok(issues(azr).includes('/roles/labeler: this recipe does not label answers with a policy'), issues(azr).join('\n'));
  // The informative band's ends in order.
  assert.deepEqual(issues(rzero({ options: { informativeMin: 0.6, informativeMax: 0.5 } })), ['/options/informativeMax: must be ≥ informativeMin (0.6)']);
});
