// A real OpenID Connect provider for the sign-in tests: panva's oidc-provider, set up like ProConnect
// (authorization code flow, client_secret_post, scopes openid email given_name usual_name siret, the person's
// claims only in the userinfo answer, returned as a JWT signed RS256). Two test people: an agent and an editor.
// Its login page is oidc-provider's own development one: type the account's login (agent, redacteur, inconnu).
//
//   OIDC_PORT=9000 OIDC_REDIRECT_URI=http://127.0.0.1:8501/oauth2callback node tests/oidc/provider.js
// prints "ready <issuer>" once it listens on 127.0.0.1 (and nowhere else).
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT || 9000);
const redirectUri = process.env.OIDC_REDIRECT_URI || 'http://127.0.0.1:8501/oauth2callback';
const issuer = `http://127.0.0.1:${port}`;
const SCOPES = 'openid email given_name usual_name siret';

export const ACCOUNTS = {
  agent: {
    email: 'camille.agent@mairie-exemple.fr', given_name: 'Camille', usual_name: 'Agent', siret: '21750001600019',
  },
  redacteur: {
    email: 'dominique.redaction@anct.gouv.fr', given_name: 'Dominique', usual_name: 'Rédaction',
    siret: '13002603200016',
  },
  inconnu: {
    email: 'claude.inconnu@ailleurs.example', given_name: 'Claude', usual_name: 'Inconnu', siret: '99999999999999',
  },
};

const configuration = {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID || 'assistant-france-services',
    client_secret: process.env.OIDC_CLIENT_SECRET || 'secret-de-test-du-client-oidc',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_post',
    userinfo_signed_response_alg: 'RS256',
  }],
  scopes: SCOPES.split(' '),
  claims: {
    email: ['email'], given_name: ['given_name'], usual_name: ['usual_name'], siret: ['siret'],
  },
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['cle-de-test-des-cookies-du-fournisseur'] },
  async findAccount(ctx, id) {
    if (!ACCOUNTS[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...ACCOUNTS[id] }; } };
  },
  // The assistant is a first-party application: no consent screen, as with ProConnect.
  async loadExistingGrant(ctx) {
    const { session, client } = ctx.oidc;
    if (!session?.accountId) return undefined;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(SCOPES);
    await grant.save();
    session.grantIdFor(client.clientId, grant.jti);
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
const server = provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
