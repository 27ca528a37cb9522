from alembic import context
from yjs_kit.migrations import run_env

run_env(context)
