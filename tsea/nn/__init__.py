"""tsea.nn"""
