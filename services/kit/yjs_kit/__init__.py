"""The service kit: each module one job, used the same way by every yijianshi service."""
