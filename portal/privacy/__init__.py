"""Personal data: who saw it, a petitioner's own copy, anonymisation after retention."""
