"""``gridgov serve``: the API and pages on uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="uvicorn worker processes."),
) -> None:
    """Serve the API and the web pages against the configured database."""
    import uvicorn

    from api.app import create_app
    from api.logs import log_config
    from geo.settings import get_settings

    settings = get_settings()
    typer.echo(f"gridgov on http://{host}:{port}/  (API docs at /docs)")
    if workers > 1:
        uvicorn.run("api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_config=log_config())
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                    log_config=log_config())
