//! Starts the ChatSphere server: reads the configuration (before the async
//! runtime, as it may touch files), sets up logging, serves until Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;

use server::startup::shutdown_signal;
use server::{telemetry, Application, Config};

fn main() -> ExitCode {
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
