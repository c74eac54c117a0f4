from allin.cli import app

app()
