//! Starts the ChatSphere server: reads the configuration (before the async
//! runtime, as it may touch files), sets up logging, serves until Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;

use server::startup::shutdown_signal;
use server::{telemetry, Application, Config};

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    return_large_blocks_to_the_system();
    if std::env::args().nth(1).as_deref() == Some("vapid-key") {
        // A new Web Push key for CHATSPHERE_VAPID_PRIVATE_KEY.
        let key = services::notify::VapidKey::generate();
        println!("CHATSPHERE_VAPID_PRIVATE_KEY={}", key.private_base64());
        eprintln!("public key (browsers subscribe with it): {}", key.public());
        return ExitCode::SUCCESS;
    }
    if std::env::args().nth(1).as_deref() == Some("migrate-db") {
        let args: Vec<String> = std::env::args().skip(2).collect();
        return server::migrate_db::run(&args);
    }
    // A missing .env is normal; real environment variables win over it.
    let _ = dotenvy::dotenv();
    let (config, warnings) = match Config::from_env() {
        Ok(loaded) => loaded,
        Err(err) => {
            eprintln!("chatsphere: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    telemetry::log_panics();
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let app = match Application::build(&config).await {
            Ok(app) => app,
            Err(err) => {
                tracing::error!(error = %err, "cannot start");
                return ExitCode::FAILURE;
            }
        };
        match app.run_until(shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(err) => {
                tracing::error!(error = %err, "server failed");
                ExitCode::FAILURE
            }
        }
    })
}

/// glibc serves a large block from its heap once its adaptive mmap threshold
/// has grown past that size, and a freed block inside a heap stays resident:
/// the 19 MiB each argon2 hash takes added up to about 0.9 GB after a burst
/// of sign-ins (measured: 100 registrations, 22 MB → 675 MB). A fixed
/// threshold keeps blocks of 1 MiB and more mapped on their own and handed
/// back on free (the same burst: 33 MB).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only changes the allocator's tuning; it runs before
    // any other thread exists. A refusal (0) leaves the default, harmlessly.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
