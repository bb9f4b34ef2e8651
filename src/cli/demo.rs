//! `sigscope demo export DIR`: the built-in demo written as an OCI image layout plus a
//! Notation configuration directory.

use super::args::DemoCommand;

pub fn run_demo(command: DemoCommand) -> i32 {
    match command {
        DemoCommand::Export { dir } => match sigscope::demo::export(&dir) {
            Ok(()) => {
                eprintln!(
                    "wrote the demo: {0}/layout (OCI image layout), {0}/notation (trust policy + trust store) and \
                     {0}/cosign.pub (the key of its cosign signature)\n\
                     try: sigscope --oci-layout {0}/layout",
                    dir.display()
                );
                0
            }
            Err(e) => {
                eprintln!("sigscope demo export: {e}");
                match e {
                    sigscope::Error::Io { .. } => 2,
                    e => e.exit_code(),
                }
            }
        },
    }
}
