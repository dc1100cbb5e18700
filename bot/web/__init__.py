"""The coordinators' web console: a board of every unit's state, one unit's report and
history, accept / return / remind through the chat's engine, totals and files.

Server-rendered (aiohttp + Jinja2), signed in with a one-time link from the chat. Runs inside
the bot's web server when BAOCAO_PUBLIC_URL and BAOCAO_WEB_SECRET are set. `links` is kept
free of the web libraries: the dispatcher imports it for `/web`."""
