import NetEngine
