import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildDocumentSchema } from '../../../src/document/document.js';
import { DocumentValidator } from '../../../src/document/validator.js';
import { planRepositories } from '../../../src/plugins/packagekit/repositories/plan.js';
import type { RepositoriesMap } from '../../../src/plugins/packagekit/repositories/schema.js';
import { PLUGINS } from '../../../src/plugins/registry.js';

// Validated as the daemon validates documents: every plugin's own schema.
const validator = new DocumentValidator(buildDocumentSchema(PLUGINS));

describe('docs/examples/proxmox-ve.json', () => {
  const text = readFileSync(
    new URL('../../../docs/examples/proxmox-ve.json', import.meta.url),
    'utf8',
  );

  it('is a valid document: Proxmox VE 8 repository with its keyring path, and its packages', () => {
    const document = validator.parse(text);
    const section = document.plugins.packagekit as {
      repositories: RepositoriesMap;
      packages: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(section.packages), [
      'proxmox-ve',
      'postfix',
      'open-iscsi',
      'chrony',
    ]);
    assert.equal(
      section.repositories.pve?.signed_by,
      '/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg',
    );
  });

  it('plans missing-keyring, not an add, on a host without the Proxmox key', () => {
    const section = (validator.parse(text).plugins.packagekit as { repositories: RepositoriesMap })
      .repositories;
    const [change] = planRepositories(section, {
      managed: new Map(),
      foreign: [],
      keyrings: new Map([['/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg', false]]),
    });
    assert.equal(change?.action, 'missing-keyring');
  });
});
