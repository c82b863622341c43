import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './command.js';
import { asciiUriArgument } from './uri-argument.js';

test('a URI argument with an internationalized host gets its A-labels, as cert verify and tlsa generate read names', () => {
  assert.equal(asciiUriArgument('sips:bücher.example'), 'sips:xn--bcher-kva.example');
  assert.equal(asciiUriArgument('sip:alice@bücher.example:5070;transport=tcp'), 'sip:alice@xn--bcher-kva.example:5070;transport=tcp');
  assert.equal(asciiUriArgument('sips:example.com'), 'sips:example.com');
  assert.throws(() => asciiUriArgument('sip:bü cher.example'), UsageError);
});
