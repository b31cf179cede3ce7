// Upstream's published TypeScript SDK (@gohighlevel/api-client, pinned in package.json) driven against
// the sandbox: what each call returns or throws. Run by peer_tests/test_typescript_sdk.py, which starts
// the sandbox and passes its URL, tokens and seeded ids in PEER_SANDBOX (JSON), one at a time.
//
// The SDK has no base-URL option: the static HighLevel.BASE_URL, read when a client is built, names
// the API, so it is set before any client is built. It sends `Version: 2023-02-21` by default (option
// `apiVersion`), and throws a GHLError subclass (statusCode, response) on any status of 400 or more.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import sdk from '@gohighlevel/api-client';

const sandbox = JSON.parse(process.env.PEER_SANDBOX);
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

// Every TCP connection of this process (axios's included) goes to loopback, or fails.
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guarded(...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { host: args[1] };
  const host = options.host ?? 'localhost';
  if (options.path === undefined && !LOOPBACK.test(host)) {
    throw new Error(`peer tests reach loopback only, not ${host}`);
  }
  return connect.apply(this, args);
};

const { HighLevel, GHLError, GHLAuthenticationError, GHLForbiddenError, GHLNotFoundError } = sdk;
HighLevel.BASE_URL = sandbox.baseUrl;
const sent = [];

function client(token) {
  const built = new HighLevel({ privateIntegrationToken: token, logLevel: 'none' });
  built.getHttpClient().interceptors.request.use((config) => {
    sent.push({ method: config.method, baseURL: config.baseURL, url: config.url, version: config.headers.Version });
    return config;
  });
  return built;
}

function sendBody(action, location = sandbox.locations[0]) {
  return { altId: location, altType: 'location', userId: sandbox.userId, action, liveMode: false };
}

async function thrown(call, errorClass) {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof errorClass && error instanceof GHLError, `not a ${errorClass.name}: ${error}`);
    return error;
  }
  assert.fail('the call did not throw');
}

test('send by email returns the sent invoice', async () => {
  const answer = await client(sandbox.agencyToken).invoices.sendInvoice({ invoiceId: sandbox.draft }, sendBody('email'));
  assert.equal(answer.invoice._id, sandbox.draft);
  assert.equal(answer.invoice.status, 'sent');
  assert.ok(answer.emailData.to.length > 0);
});

test('send by sms_and_email returns the sent invoice with both channels', async () => {
  const answer = await client(sandbox.agencyToken).invoices.sendInvoice(
    { invoiceId: sandbox.secondDraft },
    sendBody('sms_and_email'),
  );
  assert.equal(answer.invoice._id, sandbox.secondDraft);
  assert.equal(answer.invoice.status, 'sent');
  assert.ok(answer.emailData.to.length > 0);
  assert.equal(typeof answer.smsData.to, 'string');
});

test('an unknown invoice throws a 404', async () => {
  const error = await thrown(client(sandbox.agencyToken).invoices.sendInvoice({ invoiceId: sandbox.unknown }, sendBody('email')), GHLNotFoundError);
  assert.equal(error.statusCode, 404);
  assert.deepEqual(error.response, { statusCode: 404, message: 'Invoice not found', error: 'Not Found' });
});

test('a bad token throws a 401', async () => {
  const before = sent.length;
  const error = await thrown(client('not-a-sandbox-token').invoices.sendInvoice({ invoiceId: sandbox.draft }, sendBody('email')), GHLAuthenticationError);
  assert.equal(error.statusCode, 401);
  assert.equal(error.message, 'Invalid token: access token is invalid');
  assert.equal(sent.length - before, 1); // a static token: nothing to refresh, so no second request
});

test('a read returns the invoice as it is now', async () => {
  const invoice = await client(sandbox.agencyToken).invoices.getInvoice({
    invoiceId: sandbox.draft,
    altId: sandbox.locations[0],
    altType: 'location',
  });
  assert.equal(invoice._id, sandbox.draft);
  assert.equal(invoice.status, 'sent'); // sent by the first test
});

test("reading another location's invoice throws a 403", async () => {
  const read = client(sandbox.locationToken).invoices.getInvoice({
    invoiceId: sandbox.otherLocationDraft,
    altId: sandbox.locations[1],
    altType: 'location',
  });
  const error = await thrown(read, GHLForbiddenError);
  assert.equal(error.statusCode, 403);
  assert.equal(error.message, sandbox.forbidden);
});

test('every request went to the sandbox with the default Version', () => {
  assert.ok(sent.length >= 6);
  for (const request of sent) {
    assert.equal(request.baseURL, sandbox.baseUrl);
    assert.equal(request.version, '2023-02-21');
  }
});

test('nothing reaches a host that is not loopback', () => {
  assert.throws(() => net.connect({ host: 'services.leadconnectorhq.com', port: 443 }), /loopback only/);
});
