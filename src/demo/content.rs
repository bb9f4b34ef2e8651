//! The documents the demo's referrers carry: SPDX and CycloneDX SBOMs of one package list, an
//! in-toto SLSA v1 provenance statement, a cosign simple-signing payload.

use serde_json::{Value, json};

/// A package of the demo image, shared by both SBOM formats so they agree.
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    pub purl: &'static str,
    pub license: &'static str,
}

pub const PACKAGES: &[Package] = &[
    Package {
        name: "alpine-baselayout",
        version: "3.6.5-r0",
        purl: "pkg:apk/alpine/alpine-baselayout@3.6.5-r0?arch=x86_64&distro=3.20.3",
        license: "GPL-2.0-only",
    },
    Package {
        name: "busybox",
        version: "1.36.1-r29",
        purl: "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=3.20.3",
        license: "GPL-2.0-only",
    },
    Package {
        name: "ca-certificates-bundle",
        version: "20240705-r0",
        purl: "pkg:apk/alpine/ca-certificates-bundle@20240705-r0?arch=x86_64&distro=3.20.3",
        license: "MPL-2.0 AND MIT",
    },
    Package {
        name: "libcrypto3",
        version: "3.3.2-r0",
        purl: "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=3.20.3",
        license: "Apache-2.0",
    },
    Package {
        name: "musl",
        version: "1.2.5-r0",
        purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=3.20.3",
        license: "MIT",
    },
    Package {
        name: "zlib",
        version: "1.3.1-r1",
        purl: "pkg:apk/alpine/zlib@1.3.1-r1?arch=x86_64&distro=3.20.3",
        license: "Zlib",
    },
    Package {
        name: "github.com/spf13/cobra",
        version: "v1.8.1",
        purl: "pkg:golang/github.com/spf13/cobra@v1.8.1",
        license: "Apache-2.0",
    },
    Package {
        name: "golang.org/x/net",
        version: "v0.33.0",
        purl: "pkg:golang/golang.org/x/net@v0.33.0",
        license: "BSD-3-Clause",
    },
];

pub const SOURCE_REPO: &str = "https://git.example.com/demo/hello";
pub const SOURCE_COMMIT: &str = "7d3c5f1e0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
pub const BUILDER_ID: &str = "https://ci.example.com/demo/builders/release@v1";
pub const IMAGE_NAME: &str = "demo/hello";

fn spdx_id(name: &str) -> String {
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("SPDXRef-Package-{clean}")
}

pub fn spdx(created: &str, image_digest: &str) -> Vec<u8> {
    let packages: Vec<Value> = PACKAGES
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "SPDXID": spdx_id(p.name),
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": p.license,
                "licenseDeclared": p.license,
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": p.purl,
                }],
            })
        })
        .collect();
    let relationships: Vec<Value> = PACKAGES
        .iter()
        .map(|p| {
            json!({
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": spdx_id(p.name),
            })
        })
        .collect();
    let doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{IMAGE_NAME}@{image_digest}"),
        "documentNamespace": format!("https://sigscope.example/spdx/demo-hello-{}", &image_digest[7..19]),
        "creationInfo": {
            "created": created,
            "creators": ["Organization: sigscope demo", "Tool: sigscope-demo-0.1"],
        },
        "packages": packages,
        "relationships": relationships,
    });
    serde_json::to_vec_pretty(&doc).expect("SPDX serialises")
}

pub fn cyclonedx(created: &str, image_digest: &str) -> Vec<u8> {
    let components: Vec<Value> = PACKAGES
        .iter()
        .map(|p| {
            // A single SPDX id goes in `license.id`; compound licences need `expression`.
            let licenses = if p.license.contains(' ') {
                json!([{"expression": p.license}])
            } else {
                json!([{"license": {"id": p.license}}])
            };
            json!({
                "type": "library",
                "bom-ref": p.purl,
                "name": p.name,
                "version": p.version,
                "purl": p.purl,
                "licenses": licenses,
            })
        })
        .collect();
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": created,
            "tools": {"components": [{"type": "application", "name": "sigscope-demo", "version": "0.1"}]},
            "component": {
                "type": "container",
                "bom-ref": format!("{IMAGE_NAME}@{image_digest}"),
                "name": IMAGE_NAME,
                "version": image_digest,
            },
        },
        "components": components,
    });
    serde_json::to_vec_pretty(&doc).expect("CycloneDX serialises")
}

pub fn slsa_v1(image_digest: &str, started: &str, finished: &str) -> Vec<u8> {
    let hex = image_digest.strip_prefix("sha256:").unwrap_or(image_digest);
    let st = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": IMAGE_NAME, "digest": {"sha256": hex}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://ci.example.com/demo/buildtypes/container@v1",
                "externalParameters": {
                    "source": {"repository": SOURCE_REPO, "ref": "refs/heads/main"},
                    "dockerfile": "Dockerfile",
                },
                "internalParameters": {"runner": "demo-runner-1"},
                "resolvedDependencies": [{
                    "uri": format!("git+{SOURCE_REPO}@refs/heads/main"),
                    "digest": {"gitCommit": SOURCE_COMMIT},
                }],
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID},
                "metadata": {"invocationId": "demo-build-42", "startedOn": started, "finishedOn": finished},
            },
        },
    });
    serde_json::to_vec(&st).expect("statement serialises")
}

/// cosign's "simple signing" payload for an image digest.
pub fn simple_signing(docker_reference: &str, image_digest: &str) -> Vec<u8> {
    let v = json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": image_digest},
            "type": "cosign container image signature",
        },
        "optional": {"creator": "sigscope-demo"},
    });
    serde_json::to_vec(&v).expect("payload serialises")
}

/// DSSE pre-authentication encoding: what a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}
