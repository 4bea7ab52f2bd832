//! The command line: `gateway [--config FILE] [--print-config]`, plus `--help`
//! and `--version`. Everything else is configuration (see [`crate::config`]).

use std::path::PathBuf;

use clap::Parser;

/// SIP-to-WebRTC gateway and session border controller.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(
    name = "gateway",
    version,
    after_help = "Every config key may also be set as an environment variable \
                  SBC_<SECTION>_<KEY>, which overrides the file: e.g. SBC_PBX_URI, \
                  SBC_SIP_LISTEN=udp:0.0.0.0:5060,tls:0.0.0.0:5061. RUST_LOG overrides log.level."
)]
pub struct Cli {
    /// TOML configuration file; every key in it is optional.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the effective configuration (defaults, file and environment
    /// merged; secrets redacted) as TOML, then exit.
    #[arg(long)]
    pub print_config: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_config_and_print_config() {
        let cli = Cli::try_parse_from(["gateway", "--config", "gw.toml", "--print-config"])
            .expect("valid arguments");
        assert_eq!(cli.config, Some(PathBuf::from("gw.toml")));
        assert!(cli.print_config);
        let cli = Cli::try_parse_from(["gateway"]).expect("no arguments");
        assert_eq!(
            cli,
            Cli {
                config: None,
                print_config: false
            }
        );
    }

    #[test]
    fn rejects_unknown_arguments() {
        assert!(Cli::try_parse_from(["gateway", "--pbx", "x"]).is_err());
        assert!(Cli::try_parse_from(["gateway", "--config"]).is_err());
    }
}
