import { AggregateAuthenticationError, CredentialUnavailableError, type TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { createGraphClient } from '../../shared/graph/client';

/**
 * With real Graph and no identity (a copied settings file, a laptop without the app registration's
 * variables), DefaultAzureCredential says only "ChainedTokenCredential authentication failed" over
 * many lines. What reaches health, a failed request's reason and the logs must say what to set.
 */
const failing: TokenCredential = {
  getToken: async () => {
    throw new AggregateAuthenticationError(
      [new CredentialUnavailableError('EnvironmentCredential is unavailable.'), new CredentialUnavailableError('ManagedIdentityCredential: no response from IMDS')],
      'ChainedTokenCredential authentication failed.\nCredentialUnavailableError: EnvironmentCredential is unavailable.\nCredentialUnavailableError: ManagedIdentityCredential: no response',
    );
  },
};

describe('a Graph client whose credential finds no identity', () => {
  const client = createGraphClient({ GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_AUTH: 'default' }, { credential: failing });

  it('fails a call with one line that names what DefaultAzureCredential looks for', async () => {
    const error = await client.send({ method: 'GET', version: 'v1.0', path: '/users?$top=1' }).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.message.split('\n')[0]).toMatch(/^ChainedTokenCredential authentication failed\. \(DefaultAzureCredential found no identity .*AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, see docs\/local-tenant\.md\)$/);
  });

  it('says the same when the health probe reads the token for its roles', async () => {
    await expect(client.appRoles!()).rejects.toThrow(/DefaultAzureCredential found no identity .*docs\/local-tenant\.md/);
  });
});
