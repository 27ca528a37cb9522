"""yijianshi's shared language: events, API models, matter plans, official codes."""
