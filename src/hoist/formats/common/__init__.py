"""What every protocol room shares: the edge rows of the native formats and their error shapes."""
