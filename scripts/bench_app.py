"""WSGI entry point of ``make bench``: the portal exactly as ``wsgi.py`` serves it, plus
one bare route (no database, no template) that gives the benchmark its baseline.

The route exists only here, never in a deployment.
"""

from portal import create_app

app = create_app()


@app.route("/bench/bare")
def bare():
    return "ok"
