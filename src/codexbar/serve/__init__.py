"""`codexbar serve`: a Prometheus exporter, a JSON API and a web card (the `serve` extra).

  state.py      what the refresher last learned (each account's AccountResult and its
                CardView, plus the exporter's counters), as one immutable view readers share
  refresher.py  the background thread: every account (and key listing) each --refresh-interval
  metrics.py    the Prometheus collector over that view (a scrape never calls a provider)
  chart.py      the SVG spend chart of a card's ChartView
  page.py       the server-rendered HTML page, drawn from the cards
  auth.py       CodexBar's bearer token and bind rules (who may read which route)
  app.py        the WSGI app (CodexBar's routes and ours, Host check, auth, headers) and
                the Exporter
  server.py     the HTTP server: one event loop for the sockets, a fixed pool of workers

Nothing here is imported unless `codexbar serve` runs.
"""
