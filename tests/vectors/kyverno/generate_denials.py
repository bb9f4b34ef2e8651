#!/usr/bin/env python3
"""Writes generated-denials.yaml: Kyverno denial wordings the upstream collection lacks.

Kyverno up to 1.18 encodes the policy -> rule -> message map with go-yaml v2, a port of
libyaml's emitter: keys sorted, long strings single-quoted and folded at 80 columns. PyYAML's
emitter is the same libyaml design; it reproduces the website's published sample
(cpol-notary-unsigned-docs in admission-denials.yaml) byte for byte (checked when this file
was written, PyYAML 6.0). From 1.19 the map is not folded
(width unlimited) and multi-line messages are literal blocks (`|-`).

Run: python3 generate_denials.py > generated-denials.yaml
"""
import yaml

ENVELOPE = ('Error from server: admission webhook "{webhook}" denied the request: \n\n'
            'resource {resource} was blocked due to the following policies \n\n{body}')
IVP = 'admission webhook "ivpol.validate.kyverno.svc-{fp}-finegrained-{policy}" denied the request: {body}'

DIGEST = 'sha256:74a98f0e4d750c9052f092a7f7a72de7b20f94f176a490088f7a744c76c53ea5'
IMG = 'ghcr.io/kyverno/test-verify-image'
NO_SIG = (f'failed to verify image {IMG}:unsigned: .attestors[0].entries[0]: failed to verify '
          f'{IMG}@{DIGEST}: no signature is associated with "{IMG}@{DIGEST}", make sure the '
          'artifact was signed successfully')
UNTRUSTED = (f'failed to verify image {IMG}:signed: .attestors[0].entries[0].certificates: failed to '
             f'verify {IMG}@{DIGEST}: signature verification failed\nfailed to verify signature with '
             f"digest {DIGEST}, the signature's certificate chain does not contain any trusted certificate")
AWS = ('failed to verify image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1: '
       '.attestors[0].entries[0].certificates: failed to verify '
       f'123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@{DIGEST}: signature verification failed\n'
       f'failed to verify signature with digest {DIGEST}, plugin unsupported due to nil '
       'verifier.pluginManager')
KEYS = (f'failed to verify image {IMG}:signed-by-someone-else: .attestors[0].entries[0].keys: '
        'no matching signatures:\ninvalid signature when validating ASN.1 encoded signature')


class Folded(yaml.SafeDumper):
    pass


class Unfolded(yaml.SafeDumper):
    pass


def literal_when_multiline(dumper, s):
    return dumper.represent_scalar('tag:yaml.org,2002:str', s, style='|' if '\n' in s else None)


Unfolded.add_representer(str, literal_when_multiline)


def body(m, version):
    if version <= 18:
        return yaml.dump(m, Dumper=Folded, width=80, default_flow_style=False, sort_keys=True)
    return yaml.dump(m, Dumper=Unfolded, width=float('inf'), default_flow_style=False, sort_keys=True)


def cpol(id, version, webhook, resource, m, entries, note=''):
    return {'id': id, 'generated': f'Kyverno 1.{version} encoding', 'note': note,
            'text': ENVELOPE.format(webhook=webhook, resource=resource, body=body(m, version)),
            'parse': {'webhook': webhook, 'resource': resource, 'entries': entries}}


samples = [
    cpol('cpol-notary-unsigned-1.19', 19, 'mutate.kyverno.svc-fail', 'Pod/default/test',
         {'check-image-notary': {'verify-signature-notary': NO_SIG}},
         [{'policy': 'check-image-notary', 'rule': 'verify-signature-notary', 'image': f'{IMG}:unsigned',
           'attestor_path': '.attestors[0].entries[0]', 'cause': 'no-signature'}]),
    cpol('cpol-multi-policy-autogen-1.18', 18, 'mutate.kyverno.svc-fail', 'Deployment/shop/web',
         {'check-image-notary': {'autogen-verify-signature-notary': NO_SIG,
                                 'autogen-cronjob-verify-signature-notary': NO_SIG},
          'check-image-keyed': {'autogen-check-image': KEYS}},
         [{'policy': 'check-image-keyed', 'rule': 'autogen-check-image', 'image': f'{IMG}:signed-by-someone-else',
           'attestor_path': '.attestors[0].entries[0].keys', 'cause': 'signature-mismatch'},
          {'policy': 'check-image-notary', 'rule': 'autogen-cronjob-verify-signature-notary', 'image': f'{IMG}:unsigned',
           'attestor_path': '.attestors[0].entries[0]', 'cause': 'no-signature'},
          {'policy': 'check-image-notary', 'rule': 'autogen-verify-signature-notary', 'image': f'{IMG}:unsigned',
           'attestor_path': '.attestors[0].entries[0]', 'cause': 'no-signature'}],
         'keys sorted as go-yaml sorts a Go map'),
    cpol('cpol-multi-policy-autogen-1.19', 19, 'mutate.kyverno.svc-fail', 'Deployment/shop/web',
         {'check-image-notary': {'autogen-verify-signature-notary': NO_SIG},
          'check-image-keyed': {'autogen-check-image': KEYS}},
         [{'policy': 'check-image-keyed', 'rule': 'autogen-check-image', 'image': f'{IMG}:signed-by-someone-else',
           'attestor_path': '.attestors[0].entries[0].keys', 'cause': 'signature-mismatch'},
          {'policy': 'check-image-notary', 'rule': 'autogen-verify-signature-notary', 'image': f'{IMG}:unsigned',
           'attestor_path': '.attestors[0].entries[0]', 'cause': 'no-signature'}]),
    cpol('cpol-untrusted-multiline-1.18', 18, 'mutate.kyverno.svc-ignore', 'Pod/default/signed',
         {'check-image-notary': {'verify-signature-notary': UNTRUSTED}},
         [{'policy': 'check-image-notary', 'rule': 'verify-signature-notary', 'image': f'{IMG}:signed',
           'attestor_path': '.attestors[0].entries[0].certificates', 'cause': 'untrusted-certificate'}],
         "notation-go's errors.Join makes the message two lines; folded, that is a blank line"),
    cpol('cpol-untrusted-multiline-1.19', 19, 'mutate.kyverno.svc-ignore', 'Pod/default/signed',
         {'check-image-notary': {'verify-signature-notary': UNTRUSTED}},
         [{'policy': 'check-image-notary', 'rule': 'verify-signature-notary', 'image': f'{IMG}:signed',
           'attestor_path': '.attestors[0].entries[0].certificates', 'cause': 'untrusted-certificate'}],
         'a literal block (|-) from 1.19'),
    cpol('cpol-aws-signer-builtin-notary-1.18', 18, 'mutate.kyverno.svc-fail', 'Pod/prod/app',
         {'verify-aws-signer': {'verify-signature': AWS}},
         [{'policy': 'verify-aws-signer', 'rule': 'verify-signature',
           'image': '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1',
           'attestor_path': '.attestors[0].entries[0].certificates', 'cause': 'verification-plugin-unsupported'}],
         'INFERRED from notation-go (nil plugin manager) and Kyverno\'s wrapping, not observed: what a user '
         "of AWS Signer pastes when Kyverno's built-in Notary verifier meets a signingAuthority signature"),
    cpol('cpol-unverified-validate-1.19', 19, 'validate.kyverno.svc-fail', 'Pod/default/test',
         {'check-image': {'check-image': f'unverified image {IMG}:signed'}},
         [{'policy': 'check-image', 'rule': 'check-image', 'image': f'{IMG}:signed',
           'cause': 'required-but-not-verified'}]),
    {'id': 'ivpol-error-1.17', 'generated': 'Kyverno 1.17 wording',
     'text': IVP.format(fp='fail', policy='verify-image-signatures',
                        body='Policy verify-image-signatures error: failed to verify cosign signatures: '
                             'Get "https://ghcr.io/v2/": context canceled'),
     'parse': {'webhook': 'ivpol.validate.kyverno.svc-fail-finegrained-verify-image-signatures',
               'entries': [{'policy': 'verify-image-signatures', 'cause': 'registry-error'}]}},
    {'id': 'ivpol-empty-message-1.16', 'generated': 'Kyverno 1.16 wording',
     'text': IVP.format(fp='fail', policy='check-sigs', body='Policy check-sigs failed: '),
     'parse': {'webhook': 'ivpol.validate.kyverno.svc-fail-finegrained-check-sigs',
               'entries': [{'policy': 'check-sigs', 'cause': 'not-in-denial'}]}},
    {'id': 'ivpol-cel-index-1.17', 'generated': 'Kyverno 1.17 wording',
     'text': IVP.format(fp='ignore', policy='check-sigs',
                        body='Policy check-sigs failed: CEL expression validation failed at index 0'),
     'parse': {'webhook': 'ivpol.validate.kyverno.svc-ignore-finegrained-check-sigs',
               'entries': [{'policy': 'check-sigs', 'cause': 'not-in-denial'}]}},
    {'id': 'ivpol-two-policies-joined', 'generated': 'Kyverno 1.17 wording',
     'text': IVP.format(fp='fail', policy='a',
                        body='Policy a failed: image must be signed by the release key; '
                             'Policy b failed: CEL expression validation failed at index 2'),
     'parse': {'webhook': 'ivpol.validate.kyverno.svc-fail-finegrained-a',
               'entries': [{'policy': 'a', 'cause': 'policy-authored'},
                           {'policy': 'b', 'cause': 'not-in-denial'}]}},
]

print('# GENERATED by generate_denials.py; do not edit. Wordings from Kyverno source templates\n'
      '# (see admission-denials.yaml and policy-and-formats.md 1.7); encodings as the docstring says.')
print(yaml.dump({'samples': samples}, Dumper=yaml.SafeDumper, width=100, default_flow_style=False,
                sort_keys=False, allow_unicode=True))
