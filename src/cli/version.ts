/** The CLI's version, as `--version` prints it and as SBOMs and scans name their tool. */
export const VERSION = '0.1.0';
