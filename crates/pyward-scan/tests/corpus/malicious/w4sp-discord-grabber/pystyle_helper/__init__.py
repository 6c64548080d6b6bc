from .grab import send
send()
