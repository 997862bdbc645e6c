"""Operating the portal: backups and restores, and keeping the upload store tidy."""
